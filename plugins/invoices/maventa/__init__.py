"""The Maventa AutoXChange (AX) client: the print service and e-invoicing behind Netvisor.

``client`` gets an OAuth2 token and calls AX's invoice resources (upload, list, details,
actions, reroute); ``errors`` are its typed failures.

May import: the standard library and httpx; nothing of the core or of the rest of the
plugin. Everything others need is exported here.
"""

from plugins.invoices.maventa.client import (
    DEFAULT_SCOPE,
    PRODUCTION_URL,
    STAGE_URL,
    MaventaAction,
    MaventaClient,
    MaventaConfig,
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
    "PRODUCTION_URL",
    "STAGE_URL",
    "MaventaAction",
    "MaventaAuthError",
    "MaventaClient",
    "MaventaConfig",
    "MaventaError",
    "MaventaInvoice",
    "MaventaNotFoundError",
    "MaventaUnavailableError",
]
