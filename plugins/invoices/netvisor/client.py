"""Synchronous Netvisor API client used by the invoice worker.

Netvisor allows one call at a time per customer environment and can be slow, so
every request holds a process-wide lock for its environment and the timeouts are
long. Transient failures are retried with backoff, but a request that may already
have changed something in Netvisor is only retried when doing it twice is harmless:
setting a status is (the same status again changes nothing); adding a comment is not.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from urllib.parse import urlencode

import httpx
from lxml import etree

from . import parsing
from .auth import build_headers, wire_headers
from .config import HEADER_ENCODING, NetvisorConfig
from .errors import NetvisorError, NetvisorProtocolError, NetvisorTransportError
from .models import Customer, SalesInvoice, SalesInvoiceListItem
from .xml import Element, check_response_status, parse_document, serialise_request

log = logging.getLogger(__name__)

#: Statuses updatesalesinvoicestatus.nv accepts (support.netvisor.fi 77000554158). Any but
#: ``unsent`` creates the sales voucher: ``open`` is "finalise".
INVOICE_STATUSES = frozenset(
    {"open", "overdue", "reminded", "requested", "collected", "paid", "creditloss", "unsent"}
)
#: Filters salesinvoicelist.nv accepts in ``invoicestatus``.
LIST_STATUSES = frozenset({"open", "overdue", "paid", "unsent", "creditloss", "rejected"})
STATUS_BATCH = 100
DETAILS_BATCH = 500
#: A list answer this long may have been cut; the next page starts above its last key.
LIST_PAGE_SIZE = 500
COMMENT_MAX_LENGTH = 500

_locks: dict[tuple[str, str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def environment_lock(config: NetvisorConfig) -> threading.Lock:
    """The lock shared by every client of one Netvisor environment in this process."""
    key = (config.base_url, config.customer_id, config.organisation_id)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class _Attempt:
    """How one request may be retried."""

    resource: str
    #: True when repeating the request after it may have reached Netvisor is harmless.
    idempotent: bool


class _Retry(Exception):
    """Internal: this attempt failed in a way the next attempt may fix."""

    def __init__(self, error: NetvisorError) -> None:
        super().__init__(str(error))
        self.error = error


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class NetvisorClient:
    """Calls Netvisor's sales-invoice and customer resources; see the module docstring."""

    def __init__(
        self,
        config: NetvisorConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 30.0,
        use_http_status_codes: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.config = config
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._use_http_status_codes = use_http_status_codes
        self._sleep = sleep
        self._lock = environment_lock(config)
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 15.0)),
            headers={"User-Agent": "etunnus-helpdesk-netvisor/1"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"NetvisorClient({self.config!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> NetvisorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- resources -------------------------------------------------------------

    def list_sales_invoices(
        self,
        *,
        status: str | None = "unsent",
        above_netvisor_key: int | None = None,
        begin_date: date | None = None,
        end_date: date | None = None,
        last_modified_start: date | None = None,
        invoice_number: str | None = None,
    ) -> list[SalesInvoiceListItem]:
        """Invoices from salesinvoicelist.nv; by default the unsent ones (Lähettämättömät).

        Netvisor has no prefix search: filter "100102%" on the returned numbers.
        """
        if status is not None and status not in LIST_STATUSES:
            raise ValueError(f"unknown invoice list status {status!r}")
        items: list[SalesInvoiceListItem] = []
        above = above_netvisor_key
        while True:
            params: dict[str, str | int | None] = {
                "invoicestatus": status,
                "invoicesabovenetvisorkey": above,
                "begininvoicedate": _ansi(begin_date),
                "endinvoicedate": _ansi(end_date),
                "lastmodifiedstart": _ansi(last_modified_start),
                "invoicenumber": invoice_number,
            }
            root = self._get("salesinvoicelist", params)
            page = parsing.parse_sales_invoice_list(root)
            items.extend(page)
            if len(page) < LIST_PAGE_SIZE:
                return items
            last = max(item.netvisor_key for item in page)
            if above is not None and last <= above:
                return items
            above = last

    def get_sales_invoice(
        self, netvisor_key: int, *, process_history: bool = False
    ) -> SalesInvoice | None:
        """The details of one invoice, or None when Netvisor has no such invoice."""
        params: dict[str, str | int | None] = {
            "netvisorkey": netvisor_key,
            "pdfimage": "nopdf",
            "showcommentlines": 1,
            "showprocesshistory": 1 if process_history else None,
        }
        invoices = parsing.sales_invoice_elements(self._get("getsalesinvoice", params))
        if not invoices:
            return None
        return parsing.parse_sales_invoice(invoices[0], fallback_key=netvisor_key)

    def get_sales_invoices(
        self, keys: Iterable[int], *, process_history: bool = False
    ) -> list[SalesInvoice]:
        """The details of many invoices, 500 keys per call (missing invoices are left out)."""
        result: list[SalesInvoice] = []
        for batch in _chunks(list(dict.fromkeys(keys)), DETAILS_BATCH):
            params: dict[str, str | int | None] = {
                "netvisorkeylist": ",".join(str(key) for key in batch),
                "pdfimage": "nopdf",
                "showcommentlines": 1,
                "showprocesshistory": 1 if process_history else None,
            }
            root = self._get("getsalesinvoice", params)
            fallback = batch[0] if len(batch) == 1 else None
            result.extend(
                parsing.parse_sales_invoice(element, fallback_key=fallback)
                for element in parsing.sales_invoice_elements(root)
            )
        return result

    def get_sales_invoice_pdf(self, netvisor_key: int) -> bytes | None:
        """The invoice image as PDF bytes (``pdfimage=pdf``), or None if there is none."""
        params: dict[str, str | int | None] = {"netvisorkey": netvisor_key, "pdfimage": "pdf"}
        return parsing.parse_invoice_pdf(self._get("getsalesinvoice", params))

    def get_customer(self, netvisor_key: int) -> Customer | None:
        """A customer's details from getcustomer.nv.

        Unlike a missing invoice, a missing (e.g. deleted) customer is a FAILED answer,
        ``INVALID_DATA :: ... Customer not found with Netvisor identifier: N``, raised as
        :class:`InvalidData`; None only if Netvisor answers OK without a customer.
        """
        return parsing.parse_customer(self._get("getcustomer", {"id": netvisor_key}))

    def update_sales_invoice_status(self, netvisor_keys: Sequence[int], status: str) -> None:
        """Set the status of invoices, 100 per call; ``open`` finalises (creates the voucher).

        The keys and status travel in the query string; the body is empty.
        """
        if status not in INVOICE_STATUSES:
            raise ValueError(f"unknown invoice status {status!r}")
        for batch in _chunks(list(dict.fromkeys(netvisor_keys)), STATUS_BATCH):
            params: dict[str, str | int | None]
            if len(batch) == 1:
                params = {"netvisorkey": batch[0], "status": status}
            else:
                params = {"netvisorkeylist": ",".join(str(key) for key in batch), "status": status}
            # Setting the same status twice changes nothing, so a lost answer may be retried.
            self._request(
                "POST", _Attempt("updatesalesinvoicestatus", idempotent=True), params, b""
            )

    def add_sales_invoice_comment(self, netvisor_key: int, comment: str) -> None:
        """Add a line to the invoice's process history (at most 500 characters).

        Never retried once it may have reached Netvisor: a retry could add it twice.
        """
        comment = comment.strip()
        if not comment:
            raise ValueError("comment must not be empty")
        if len(comment) > COMMENT_MAX_LENGTH:
            raise ValueError(f"comment is longer than {COMMENT_MAX_LENGTH} characters")
        root = etree.Element("root")
        entry = etree.SubElement(
            etree.SubElement(root, "salesinvoicecomments"), "salesinvoicecomment"
        )
        etree.SubElement(entry, "invoicetype").text = "invoice"
        etree.SubElement(entry, "invoicenetvisorkey").text = str(netvisor_key)
        etree.SubElement(entry, "comment").text = comment
        self._request(
            "POST",
            _Attempt("salesinvoicecomment", idempotent=False),
            {},
            serialise_request(root),
        )

    # -- transport -------------------------------------------------------------

    def _get(self, resource: str, params: dict[str, str | int | None]) -> Element:
        return self._request("GET", _Attempt(resource, idempotent=True), params, None)

    def _url(self, resource: str, params: dict[str, str | int | None]) -> str:
        query = urlencode(
            [(name, str(value)) for name, value in params.items() if value is not None],
            safe=",",
        )
        url = f"{self.config.base_url}/{resource}.nv"
        return f"{url}?{query}" if query else url

    def _request(
        self,
        method: str,
        attempt: _Attempt,
        params: dict[str, str | int | None],
        body: bytes | None,
    ) -> Element:
        url = self._url(attempt.resource, params)
        for number in range(1, self._max_attempts + 1):
            try:
                return self._send_once(method, url, attempt, body)
            except _Retry as retry:
                if number == self._max_attempts:
                    raise retry.error from retry.__cause__
                delay = min(self._max_backoff, self._backoff * 2 ** (number - 1))
                delay *= random.uniform(0.5, 1.0)
                log.warning(
                    "Netvisor %s attempt %d/%d failed (%s); retrying in %.1f s",
                    attempt.resource,
                    number,
                    self._max_attempts,
                    retry.error.code or type(retry.error).__name__,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, url: str, attempt: _Attempt, body: bytes | None) -> Element:
        with self._lock:
            request = self._http.build_request(method, url, content=body)
            if body:
                request.headers["Content-Type"] = "text/xml; charset=ISO-8859-15"
            # The MAC covers the URL exactly as it goes on the wire, and the header values
            # as the ISO-8859-1 bytes they are sent as.
            request.headers.update(
                wire_headers(
                    build_headers(
                        self.config,
                        str(request.url),
                        use_http_status_codes=self._use_http_status_codes,
                    )
                )
            )
            # httpx reads headers back as text (cookies): in the encoding they were sent in.
            request.headers.encoding = HEADER_ENCODING
            started = time.monotonic()
            try:
                response = self._http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached Netvisor: always safe to try again.
                raise _Retry(_transport_error(attempt, exc)) from exc
            except httpx.TransportError as exc:
                error = _transport_error(attempt, exc)
                if attempt.idempotent:
                    raise _Retry(error) from exc
                raise error from exc
            elapsed = time.monotonic() - started
        log.info(
            "Netvisor %s %s -> HTTP %d in %.2f s",
            method,
            attempt.resource,
            response.status_code,
            elapsed,
        )
        return self._interpret(response, attempt)

    def _interpret(self, response: httpx.Response, attempt: _Attempt) -> Element:
        status = response.status_code
        if status == 429:
            # Throttled before processing: safe to repeat whatever the method.
            raise _Retry(
                NetvisorTransportError("Netvisor pyysi hidastamaan (HTTP 429)", code="HTTP_429")
            )
        try:
            root = parse_document(response.content)
        except NetvisorProtocolError as exc:
            if status >= 500:
                error = NetvisorTransportError(
                    f"Netvisor vastasi HTTP {status}", code=f"HTTP_{status}"
                )
                if attempt.idempotent:
                    raise _Retry(error) from exc
                raise error from exc
            if status >= 300:
                raise NetvisorProtocolError(
                    f"Netvisor vastasi HTTP {status} ilman XML-vastausta", code=f"HTTP_{status}"
                ) from exc
            raise
        try:
            check_response_status(root)
        except NetvisorError as error:
            # A FAILED answer means Netvisor did not carry the request out. Codes that a
            # second try seconds later may fix are retried (not SYSTEM_MAINTENANCE: a
            # maintenance break lasts longer than our backoff); a TECHNICAL_ERROR on a
            # non-idempotent request is not, since something may have been stored.
            if error.retry_at_once and (attempt.idempotent or error.code != "TECHNICAL_ERROR"):
                raise _Retry(error) from None
            raise
        if not 200 <= status < 300:
            raise NetvisorProtocolError(
                f"Netvisor vastasi HTTP {status} ja tilan OK", code=f"HTTP_{status}"
            )
        return root


def _transport_error(attempt: _Attempt, exc: httpx.HTTPError) -> NetvisorTransportError:
    if isinstance(exc, httpx.TimeoutException):
        return NetvisorTransportError(
            f"Netvisor ei vastannut ajoissa ({attempt.resource})", code="TIMEOUT"
        )
    return NetvisorTransportError(
        f"yhteysvirhe ({attempt.resource}: {type(exc).__name__})", code="NETWORK_ERROR"
    )


def _ansi(value: date | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None
