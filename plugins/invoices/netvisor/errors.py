"""Typed errors raised by the Netvisor client.

Every error carries ``code`` (Netvisor's error code, or our own for transport and
protocol failures), ``message`` (Netvisor's own text) and ``detail`` (a Finnish
sentence an agent can act on). ``str(error)`` is safe to show in the helpdesk UI:
it never contains keys, MACs or request headers.

The codes are those of Netvisor's "Controlling errors" article (support.netvisor.fi
77000500440): AUTHENTICATION_FAILED, INVALID_DATA, INVALID_DATA_SIZE, DUPLICATE_DATA,
REQUEST_NOT_UNIQUE, PERIOD_LOCK, SERVICE_ACCESS_ERROR and SYSTEM_MAINTENANCE.
TECHNICAL_ERROR is not in that article; it is kept for answers that carry it anyway.
Two questions decide what a caller does with an error: ``transient`` (may the same
request succeed later?) and :func:`concerns_one_record` (is it about the one invoice
or customer asked for, so that the rest of a batch goes on?).
"""

from __future__ import annotations


class NetvisorError(Exception):
    """Base class: Netvisor answered FAILED, or we could not talk to it."""

    #: Finnish title shown before the message.
    title = "Netvisor-virhe"
    #: Default hint for the agent when Netvisor gives none.
    hint = "Yritä myöhemmin uudelleen. Jos virhe toistuu, ota yhteys ylläpitoon."
    #: Whether trying again (with a new transaction id) can help.
    transient = False
    #: Whether trying again within the same call (seconds later) can help.
    retry_at_once = False

    def __init__(
        self, message: str = "", *, code: str | None = None, detail: str | None = None
    ) -> None:
        self.code = code
        self.message = message
        self.detail = detail if detail is not None else self.hint
        super().__init__(message)

    def __str__(self) -> str:
        code = f" ({self.code})" if self.code else ""
        message = f": {self.message}" if self.message else ""
        return f"{self.title}{code}{message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class AuthenticationFailed(NetvisorError):
    title = "Netvisor hylkäsi tunnistautumisen"
    hint = (
        "Tarkista Netvisorin rajapintatunnukset (asiakastunnus, kumppanitunnus ja "
        "avaimet) sekä palvelimen kello."
    )


class InvalidData(NetvisorError):
    title = "Netvisor hylkäsi tiedot virheellisinä"
    hint = "Tarkista lähetetyt tiedot; Netvisorin viesti kertoo, mikä kenttä on väärin."


class DuplicateData(NetvisorError):
    title = "Tieto on jo Netvisorissa"
    hint = "Sama tieto on jo tallennettu Netvisoriin; tarkista ennen kuin yrität uudelleen."


class RequestNotUnique(NetvisorError):
    title = "Netvisor hylkäsi pyynnön toistettuna"
    hint = "Pyynnön tunniste oli jo käytetty. Uusi yritys saa uuden tunnisteen."
    transient = True
    retry_at_once = True


class PeriodLock(NetvisorError):
    title = "Kirjanpitokausi on lukittu Netvisorissa"
    hint = "Laskun päivämäärä osuu lukitulle kaudelle; pyydä kirjanpitäjää avaamaan kausi."


class ServiceAccessError(NetvisorError):
    """No access rights to the resource, or the integration is not in use (not transient)."""

    title = "Netvisor ei sallinut rajapinnan käyttöä"
    hint = (
        "Rajapintakäyttäjällä ei ole oikeutta tähän resurssiin tai integraatio ei ole "
        "käytössä. Tarkista Netvisorin rajapinta-asetukset (sallitut resurssit)."
    )


class SystemMaintenance(NetvisorError):
    """Netvisor is being serviced: no request goes through until it ends."""

    title = "Netvisor on huoltokatkolla"
    hint = (
        "Huollon aikana Netvisoriin ei voi tehdä pyyntöjä. Synkronointi yrittää "
        "uudelleen seuraavalla kierroksella."
    )
    transient = True


class TechnicalError(NetvisorError):
    title = "Netvisorissa tapahtui tekninen virhe"
    hint = "Vika on Netvisorin päässä. Yritä hetken päästä uudelleen."
    transient = True
    retry_at_once = True


class NetvisorTransportError(NetvisorError):
    """The network failed: no connection, a timeout, or an HTTP error without XML."""

    title = "Yhteys Netvisoriin epäonnistui"
    hint = (
        "Netvisor ei vastannut ajoissa tai yhteys katkesi. Tarkista Netvisorista, "
        "ehtikö toimenpide tapahtua, ennen kuin yrität uudelleen."
    )
    transient = True
    retry_at_once = True


class NetvisorProtocolError(NetvisorError):
    """Netvisor answered something we cannot read: malformed XML or an unexpected shape."""

    title = "Netvisorin vastausta ei voitu lukea"
    hint = "Netvisor palautti odottamattoman vastauksen. Ota yhteys ylläpitoon."


_BY_CODE: dict[str, type[NetvisorError]] = {
    "AUTHENTICATION_FAILED": AuthenticationFailed,
    "INVALID_DATA": InvalidData,
    "INVALID_DATA_SIZE": InvalidData,
    "DUPLICATE_DATA": DuplicateData,
    "REQUEST_NOT_UNIQUE": RequestNotUnique,
    "PERIOD_LOCK": PeriodLock,
    "SERVICE_ACCESS_ERROR": ServiceAccessError,
    "SYSTEM_MAINTENANCE": SystemMaintenance,
    "TECHNICAL_ERROR": TechnicalError,
}

#: Codes Netvisor is known to send (the documented ones in the article's order, then ours).
KNOWN_CODES: tuple[str, ...] = tuple(_BY_CODE)
#: Our protocol error code for one record whose data we could not read (an amount that is
#: not a number); ``UNEXPECTED_SHAPE`` is the answer as a whole being unreadable.
UNREADABLE_DATA = "UNREADABLE_DATA"


def error_for_code(code: str, message: str) -> NetvisorError:
    """Build the typed error for a Netvisor error code (unknown codes give the base class)."""
    cls = _BY_CODE.get(code.strip().upper(), NetvisorError)
    return cls(message, code=code.strip().upper() or None)


def concerns_one_record(error: NetvisorError) -> bool:
    """Whether ``error`` is about the one invoice or customer asked for, not the request.

    INVALID_DATA answers a request that named a record Netvisor will not give (a deleted
    customer: "Customer not found with Netvisor identifier"), and a record whose data we
    could not read is its own problem too. Everything else (credentials, rights,
    maintenance, the network, a malformed answer, too many keys) stops the whole batch.
    """
    return error.code in {"INVALID_DATA", UNREADABLE_DATA}
