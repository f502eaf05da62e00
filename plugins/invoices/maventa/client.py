"""A synchronous client for Maventa's AutoXChange (AX) REST API.

Maventa runs the print service (PDF eKirje) and e-invoicing behind Netvisor. Every call,
field and value here is AX's published OpenAPI; ``API_NOTES.md`` beside this file lists
them with their sources, and says which facts no document states. In short:

- ``POST /oauth2/token`` (form, client credentials) gives a bearer token for an hour.
- ``POST /v1/invoices`` (multipart): ``file`` (an invoice XML, or a ZIP of the XML and its
  attachments), ``format`` (``FINVOICE30`` ...), routing fields and ``uuid``, the invoice's
  id chosen by us, which makes an upload whose answer was lost safe to look up and retry.
- ``GET /v1/invoices`` lists RECEIVED invoices unless ``direction=SENT``, 10 a page unless
  ``per_page`` (up to 100) says otherwise; ``ids[]`` narrows it to given ids.
- ``GET /v1/invoices/{id}`` (``status`` PENDING, DELIVERED or FAILED, ``files[].filename``,
  ``actions[]``) and ``GET /v1/invoices/{id}/actions`` (type, channel, message, time).
- ``PUT /v1/invoices/{id}/reroute/print|email|einvoice`` (JSON body).
- Errors answer ``{"code", "message", "details"}``.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable, Iterator, Mapping, Sequence
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
Direction = Literal["SENT", "RECEIVED"]
Delivery = Literal["pending", "delivered", "failed"]

#: The upload's ``format`` values (OpenAPI ``postV1Invoices``); ours is FINVOICE30.
UPLOAD_FORMATS = frozenset(
    {
        "VISMAXML53",
        "VISMAXML60",
        "SVEFAKTURA10",
        "SEDI",
        "E2B",
        "EHF20",
        "PEPPOLBIS20",
        "PEPPOLBIS30",
        "SIUBL11",
        "SIUBL12",
        "SIUBL20",
        "OIOUBL",
        "VISMAUBL10",
        "VISMAUBL30",
        "FINVOICE13",
        "FINVOICE20",
        "FINVOICE30",
        "TEAPPS27",
        "TEAPPS30",
    }
)
FINVOICE30 = "FINVOICE30"
#: ``disabled_routes`` values.
ROUTES: tuple[Channel, ...] = ("print", "email", "einvoice")
UPLOAD_LANGUAGES = frozenset({"FI", "SE", "NO", "DK", "NL", "EN"})
#: The upload's optional fields we send (besides ``file`` and ``uuid``).
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
        "lang",
    }
)
#: ``GET /v1/invoices``: 10 a page unless asked, at most 100.
MAX_PER_PAGE = 100
#: ``ids[]`` takes at most 100 ids a query.
MAX_IDS = 100
#: The invoice's ``status`` values.
STATUS_PENDING, STATUS_DELIVERED, STATUS_FAILED = "PENDING", "DELIVERED", "FAILED"
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
class MaventaAction:
    """One event in an invoice's delivery (type CREATED, SENT, DELIVERED, INFO, ERROR ...)."""

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


@dataclass(frozen=True)
class MaventaFile:
    """One file of an invoice (``files[]``): its id, ``filename``, type and mime type."""

    id: str
    filename: str | None
    type: str | None
    mimetype: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MaventaFile:
        """Build from an AX invoice file object."""
        return cls(
            id=str(data.get("id", "")),
            filename=_str(data.get("filename")),
            type=_str(data.get("type")),
            mimetype=_str(data.get("mimetype")),
        )


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


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
    files: tuple[MaventaFile, ...] = ()
    actions: tuple[MaventaAction, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
            files=tuple(MaventaFile.from_json(f) for f in _objects(data.get("files"))),
            actions=tuple(MaventaAction.from_json(a) for a in _objects(data.get("actions"))),
            raw=dict(data),
        )

    @property
    def filenames(self) -> tuple[str, ...]:
        """The names of the invoice's files, as uploaded."""
        return tuple(f.filename for f in self.files if f.filename)

    def delivery(self, actions: Sequence[MaventaAction] = ()) -> Delivery:
        """Where the delivery stands: the ``status`` first; with none Maventa documents,
        the newest DELIVERED or ERROR action (``actions``, else the invoice's own)."""
        status = (self.status or "").upper()
        if status == STATUS_DELIVERED:
            return "delivered"
        if status == STATUS_FAILED:
            return "failed"
        if status == STATUS_PENDING:
            return "pending"
        for action in reversed(_by_time(actions or self.actions)):
            if action.type.upper() == "DELIVERED":
                return "delivered"
            if action.type.upper() == "ERROR":
                return "failed"
        return "pending"

    def failure_reason(self, actions: Sequence[MaventaAction] = ()) -> str:
        """Maventa's words for a failed delivery: the newest ERROR action's message."""
        for action in reversed(_by_time(actions or self.actions)):
            if action.type.upper() == "ERROR" and action.message:
                return action.message
        return _str(self.raw.get("comment")) or (self.status or STATUS_FAILED)

    def delivered_at(self, actions: Sequence[MaventaAction] = ()) -> datetime | None:
        """When the operator or the print service took it: the newest DELIVERED action."""
        for action in reversed(_by_time(actions or self.actions)):
            if action.type.upper() == "DELIVERED":
                return action.happened_at
        return None


def _by_time(actions: Sequence[MaventaAction]) -> list[MaventaAction]:
    # Sorted by time where Maventa gave one; those without keep their place (stable sort).
    stamps = [a.happened_at.timestamp() if a.happened_at else None for a in actions]
    if any(stamp is None for stamp in stamps):
        return list(actions)
    return [a for _, a in sorted(zip(stamps, actions, strict=True), key=lambda p: p[0] or 0)]


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
        uuid: str | None = None,
        routing: Mapping[str, str | Sequence[str]] | None = None,
    ) -> MaventaInvoice:
        """Upload an invoice file (an XML, or a ZIP of the XML and attachments) for sending.

        ``uuid`` becomes the invoice's id: give one and keep it before calling, so that an
        upload whose answer was lost can be found (:meth:`find_sent`) or sent again with
        the same uuid, which Maventa refuses as a duplicate. ``routing`` holds AX's
        optional upload fields (``format``, ``recipient_eia``, ``recipient_operator``,
        ``disabled_routes`` ...); list values are sent as repeated ``name[]`` fields.
        """
        fields = _upload_fields(routing or {})
        if uuid is not None:
            fields["uuid"] = _uuid(uuid)
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

    def iter_invoices(
        self,
        direction: Direction,
        *,
        per_page: int = MAX_PER_PAGE,
        max_pages: int = 50,
        ids: Sequence[str] = (),
        **filters: str,
    ) -> Iterator[MaventaInvoice]:
        """``GET /v1/invoices`` page by page: ``direction`` is required here, since AX
        lists RECEIVED invoices when it is left out. ``filters`` are the documented query
        fields (``number``, ``reference``, ``created_at_start`` ...); ``ids`` at most 100.
        Stops at ``X-Next-Page`` left empty, or else at a short page, or at ``max_pages``."""
        if direction not in ("SENT", "RECEIVED"):
            raise ValueError(f"unknown direction: {direction!r}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        if len(ids) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} ids a query")
        page = 1
        for _ in range(max_pages):
            params: dict[str, str | list[str]] = {
                **filters,
                "direction": direction,
                "page": str(page),
                "per_page": str(per_page),
            }
            if ids:
                params["ids[]"] = list(ids)
            response = self._call("GET", "/v1/invoices", params=params)
            body = self._json(response)
            if not isinstance(body, list):
                raise MaventaError("invoice list is not a list", status=response.status_code)
            for item in body:
                if isinstance(item, Mapping):
                    yield MaventaInvoice.from_json(item)
            following = _next_page(response, page, len(body), per_page)
            if following is None:
                return
            page = following

    def list_invoices(self, direction: Direction, **filters: Any) -> list[MaventaInvoice]:
        """Every page of ``GET /v1/invoices`` in ``direction`` (see :meth:`iter_invoices`)."""
        return list(self.iter_invoices(direction, **filters))

    def find_sent(self, invoice_id: str, *, filename: str | None = None) -> MaventaInvoice | None:
        """An invoice we uploaded, by the uuid we gave it (or, failing that, by the name
        of its uploaded file), among the SENT invoices; None when Maventa has none."""
        uuid = _uuid(invoice_id)
        for found in self.iter_invoices("SENT", ids=[uuid]):
            if found.id.lower() == uuid or (filename and filename in found.filenames):
                return found
        return None

    def get_actions(self, invoice_id: str, *, types: Sequence[str] = ()) -> list[MaventaAction]:
        """Return the invoice's delivery events, oldest first as Maventa lists them."""
        params = {"type[]": list(types)} if types else None
        response = self._call("GET", f"/v1/invoices/{_segment(invoice_id)}/actions", params=params)
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


def _uuid(value: str) -> str:
    """A uuid as Maventa takes it (canonical lower-case form); ValueError otherwise."""
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError:
        raise ValueError(f"not a uuid: {value!r}") from None


def _upload_fields(routing: Mapping[str, str | Sequence[str]]) -> dict[str, str | list[str]]:
    unknown = set(routing) - UPLOAD_FIELDS
    if unknown:
        raise ValueError(f"unknown routing fields: {', '.join(sorted(unknown))}")
    fields: dict[str, str | list[str]] = {}
    for name, value in routing.items():
        if isinstance(value, str):
            fields[name] = value
        else:
            fields[f"{name}[]"] = list(value)
    if "format" in fields and fields["format"] not in UPLOAD_FORMATS:
        raise ValueError(f"unknown format: {fields['format']!r}")
    if "lang" in fields and fields["lang"] not in UPLOAD_LANGUAGES:
        raise ValueError(f"unknown lang: {fields['lang']!r}")
    routes = fields.get("disabled_routes[]", [])
    if isinstance(routes, list) and set(routes) - set(ROUTES):
        raise ValueError(f"unknown disabled_routes: {', '.join(sorted(set(routes) - set(ROUTES)))}")
    return fields


def _next_page(response: httpx.Response, page: int, count: int, per_page: int) -> int | None:
    """The page after ``page``: ``X-Next-Page`` where Maventa sends it, else the next one
    unless this one was short."""
    header = response.headers.get("X-Next-Page")
    if header is not None:
        return int(header) if header.strip().isdigit() and int(header) > page else None
    return page + 1 if count >= per_page else None
