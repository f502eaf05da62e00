"""The Maventa AutoXChange (AX) client: the print service and e-invoicing behind Netvisor.

``client`` gets an OAuth2 token and calls AX's invoice resources (upload with our own
uuid, the SENT list page by page, details with status and actions, reroute); ``errors``
are its typed failures. ``API_NOTES.md`` lists every documented fact the client uses and
where it comes from.

May import: the standard library and httpx; nothing of the core or of the rest of the
plugin. Everything others need is exported here.
"""

from plugins.invoices.maventa.client import (
    DEFAULT_SCOPE,
    FINVOICE30,
    MAX_PER_PAGE,
    PRODUCTION_URL,
    ROUTES,
    STAGE_URL,
    UPLOAD_FORMATS,
    Delivery,
    MaventaAction,
    MaventaClient,
    MaventaConfig,
    MaventaFile,
    MaventaInvoice,
)
from plugins.invoices.maventa.errors import (
    MaventaAuthError,
    MaventaError,
    MaventaNotFoundError,
    MaventaUnavailableError,
)

__all__ = [
    "DEFAULT_SCOPE",
    "FINVOICE30",
    "MAX_PER_PAGE",
    "PRODUCTION_URL",
    "ROUTES",
    "STAGE_URL",
    "UPLOAD_FORMATS",
    "Delivery",
    "MaventaAction",
    "MaventaAuthError",
    "MaventaClient",
    "MaventaConfig",
    "MaventaError",
    "MaventaFile",
    "MaventaInvoice",
    "MaventaNotFoundError",
    "MaventaUnavailableError",
]
