"""A synchronous client for Maventa's AutoXChange (AX) REST API.

Maventa runs the print service (PDF eKirje) and e-invoicing behind Netvisor. The calls
and field names follow Maventa's published OpenAPI description of AX
(documentation.maventa.com, REST API):

- ``POST /oauth2/token`` (form): ``grant_type=client_credentials``, ``client_id`` (the
  company UUID), ``client_secret`` (the company's API key), ``vendor_api_key`` and a
  space-separated ``scope``; the answer carries ``access_token``, ``token_type``,
  ``expires_in`` (seconds, one hour) and the granted ``scope``.
- ``POST /v1/invoices`` (multipart): ``file`` plus optional routing fields ``format``,
  ``recipient_eia``, ``recipient_operator``, ``recipient_email``, ``disabled_routes``,
  ``sender_comment``, ``recipient_type`` and ``route_order``.
- ``GET /v1/invoices/{id}`` and ``GET /v1/invoices/{id}/actions``.
- ``PUT /v1/invoices/{id}/reroute/print|email|einvoice`` (JSON body).
- Errors answer ``{"code", "message", "details"}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import quote

import httpx

from plugins.invoices.maventa.errors import (
    MaventaAuthError,
    MaventaError,
    MaventaNotFoundError,
    MaventaUnavailableError,
)

PRODUCTION_URL = "https://ax.maventa.com"
STAGE_URL = "https://ax-stage.maventa.com"
# "eui" is documented as an alias that includes invoice:send and invoice:receive;
# "global" and "company" add lookups and company settings.
DEFAULT_SCOPE = "eui global company"
# Renew a little before Maventa's own expiry so a request never carries a token that
# dies in flight.
TOKEN_EXPIRY_SLACK = 60.0

Channel = Literal["print", "email", "einvoice"]

UPLOAD_FIELDS = frozenset(
    {
        "format",
        "recipient_type",
        "recipient_eia",
        "recipient_email",
        "recipient_operator",
        "disabled_routes",
        "sender_comment",
        "route_order",
    }
)
# Fields the reroute bodies need, per channel; print also takes recipient_address2 and
# recipient_state.
REROUTE_REQUIRED: dict[Channel, tuple[str, ...]] = {
    "print": (
        "recipient_name",
        "recipient_address1",
        "recipient_post_code",
        "recipient_post_office",
        "recipient_country",
    ),
    "email": ("recipient_email",),
    "einvoice": ("recipient_eia", "recipient_operator"),
}
REROUTE_OPTIONAL: dict[Channel, tuple[str, ...]] = {
    "print": ("recipient_address2", "recipient_state"),
    "email": (),
    "einvoice": (),
}


@dataclass(frozen=True)
class MaventaConfig:
    """Where and as whom to call Maventa; the keys stay out of repr and logs."""

    base_url: str
    client_id: str
    api_key: str = field(repr=False)
    vendor_api_key: str = field(repr=False)
    scope: str = DEFAULT_SCOPE
    timeout: float = 60.0


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an invoice id is needed")
    return quote(value, safe="")


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class MaventaInvoice:
    """An invoice as Maventa sees it; ``raw`` keeps every field of the answer."""

    id: str
    status: str | None
    number: str | None
    reference: str | None
    sum: Decimal | None
    sum_tax: Decimal | None
    currency: str | None
    destination: str | None
    created_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MaventaInvoice:
        """Build from an AX invoice object."""
        if "id" not in data:
            raise MaventaError("invoice answer has no id")
        return cls(
            id=str(data["id"]),
            status=_str(data.get("status")),
            number=_str(data.get("number")),
            reference=_str(data.get("reference")),
            sum=_decimal(data.get("sum")),
            sum_tax=_decimal(data.get("sum_tax")),
            currency=_str(data.get("currency")),
            destination=_str(data.get("destination")),
            created_at=_timestamp(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class MaventaAction:
    """One event in an invoice's delivery: created, sent to print, delivered, failed ..."""

    type: str
    channel: str | None
    message: str | None
    happened_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MaventaAction:
        """Build from an AX invoice action object."""
        return cls(
            type=str(data.get("type", "")),
            channel=_str(data.get("channel")),
            message=_str(data.get("message")),
            happened_at=_timestamp(data.get("happened_at")),
        )


@dataclass
class _Token:
    value: str
    expires_at: float


def _error_from(response: httpx.Response) -> MaventaError:
    status = response.status_code
    code: str | None = None
    message = response.reason_phrase or f"HTTP {status}"
    details: Sequence[str] = ()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        # AX errors carry code/message/details; the OAuth endpoint may use the RFC 6749
        # error/error_description pair instead.
        code = _str(body.get("code") or body.get("error"))
        message = str(body.get("message") or body.get("error_description") or code or message)
        raw_details = body.get("details")
        if isinstance(raw_details, list):
            details = [str(item) for item in raw_details]
    elif response.text.strip():
        message = response.text.strip()[:500]
    kind: type[MaventaError] = MaventaError
    if status in (401, 403):
        kind = MaventaAuthError
    elif status == 404:
        kind = MaventaNotFoundError
    elif status >= 500:
        kind = MaventaUnavailableError
    return kind(message, status=status, code=code, details=details)


class MaventaClient:
    """Calls AX as one company; the OAuth2 token is fetched once and reused until it expires."""

    def __init__(
        self,
        config: MaventaConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self._token: _Token | None = None
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            timeout=config.timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> MaventaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- authentication ---------------------------------------------------------------

    def token(self) -> str:
        """Return a valid bearer token, fetching a new one only when the cached one expires."""
        now = self._clock()
        if self._token is not None and now < self._token.expires_at:
            return self._token.value
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_secret": self.config.api_key,
            "vendor_api_key": self.config.vendor_api_key,
            "scope": self.config.scope,
        }
        response = self._send("POST", "/oauth2/token", data=form)
        if response.status_code in (400, 401, 403):
            error = _error_from(response)
            raise MaventaAuthError(
                error.message, status=error.status, code=error.code, details=error.details
            )
        if not response.is_success:
            raise _error_from(response)
        body = response.json()
        access_token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(access_token, str) or not access_token:
            raise MaventaAuthError("token answer has no access_token", status=response.status_code)
        expires_in = float(body.get("expires_in") or 3600)
        self._token = _Token(access_token, now + max(expires_in - TOKEN_EXPIRY_SLACK, 0.0))
        return access_token

    def forget_token(self) -> None:
        """Drop the cached token, so the next call authenticates again."""
        self._token = None

    # --- transport --------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise MaventaUnavailableError(f"timed out: {method} {path}") from error
        except httpx.HTTPError as error:
            raise MaventaUnavailableError(f"{method} {path} failed: {error}") from error

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = self._send(method, path, headers=headers, **kwargs)
            # A token can be revoked or expire early on Maventa's side: one fresh try.
            if response.status_code == 401 and attempt == 1:
                self.forget_token()
                continue
            if not response.is_success:
                raise _error_from(response)
            return response
        raise AssertionError("unreachable")

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise MaventaError("answer is not JSON", status=response.status_code) from error

    # --- invoices ---------------------------------------------------------------------

    def upload_invoice(
        self,
        file_bytes: bytes,
        filename: str,
        *,
        content_type: str = "application/xml",
        routing: Mapping[str, str | Sequence[str]] | None = None,
    ) -> MaventaInvoice:
        """Upload an invoice file (Finvoice XML, or a ZIP of XML and PDF) for sending.

        ``routing`` holds AX's optional upload fields (``recipient_eia``,
        ``recipient_operator``, ``recipient_email``, ``disabled_routes`` ...); list values
        are sent as repeated ``name[]`` fields.
        """
        routing = routing or {}
        unknown = set(routing) - UPLOAD_FIELDS
        if unknown:
            raise ValueError(f"unknown routing fields: {', '.join(sorted(unknown))}")
        fields: dict[str, str | list[str]] = {}
        for name, value in routing.items():
            if isinstance(value, str):
                fields[name] = value
            else:
                fields[f"{name}[]"] = list(value)
        response = self._call(
            "POST",
            "/v1/invoices",
            data=fields,
            files={"file": (filename, file_bytes, content_type)},
        )
        body = self._json(response)
        if not isinstance(body, Mapping):
            raise MaventaError("upload answer is not an invoice", status=response.status_code)
        return MaventaInvoice.from_json(body)

    def get_invoice(self, invoice_id: str) -> MaventaInvoice:
        """Return the invoice's details and delivery status."""
        response = self._call("GET", f"/v1/invoices/{_segment(invoice_id)}")
        body = self._json(response)
        if not isinstance(body, Mapping):
            raise MaventaError("invoice answer is not an object", status=response.status_code)
        return MaventaInvoice.from_json(body)

    def list_invoices(self, **filters: str) -> list[MaventaInvoice]:
        """Invoices this company sent (``GET /v1/invoices``), e.g. to find one after a crash."""
        response = self._call("GET", "/v1/invoices", params=filters)
        body = self._json(response)
        if not isinstance(body, list):
            raise MaventaError("invoice list answer is not a list", status=response.status_code)
        return [MaventaInvoice.from_json(item) for item in body if isinstance(item, Mapping)]

    def get_actions(self, invoice_id: str) -> list[MaventaAction]:
        """Return the invoice's delivery events, oldest first as Maventa lists them."""
        response = self._call("GET", f"/v1/invoices/{_segment(invoice_id)}/actions")
        body = self._json(response)
        if not isinstance(body, list):
            raise MaventaError("actions answer is not a list", status=response.status_code)
        return [MaventaAction.from_json(item) for item in body if isinstance(item, Mapping)]

    def reroute(self, invoice_id: str, channel: Channel, **params: str) -> None:
        """Send an existing invoice again through another channel.

        print: recipient_name, recipient_address1, recipient_post_code,
        recipient_post_office, recipient_country (optional recipient_address2,
        recipient_state); email: recipient_email; einvoice: recipient_eia,
        recipient_operator.
        """
        if channel not in REROUTE_REQUIRED:
            raise ValueError(f"unknown channel: {channel!r}")
        required = REROUTE_REQUIRED[channel]
        missing = [name for name in required if not params.get(name)]
        if missing:
            raise ValueError(f"reroute to {channel} needs {', '.join(missing)}")
        unknown = set(params) - set(required) - set(REROUTE_OPTIONAL[channel])
        if unknown:
            raise ValueError(f"unknown fields for {channel}: {', '.join(sorted(unknown))}")
        self._call("PUT", f"/v1/invoices/{_segment(invoice_id)}/reroute/{channel}", json=params)
