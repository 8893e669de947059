"""The gateway's client for the ZGW APIs: one async httpx client per API with JWT, the catalogue cache, and ZGW
errors as typed exceptions. It knows no StUF: nothing here imports ``stuf``, ``soap``, ``web`` or the faults of
``stuf_bridge.errors`` (only its base error and ``clip``); ``stuf_bridge.faults`` decides which fault an error is."""

from .auth import JwtAuth
from .catalogue import Catalogue, CatalogueAmbiguous, CatalogueLookupError, CatalogueNotFound
from .client import ZgwApiClient, ZgwCall, ZgwClients, by_identificatie, record_zgw_calls
from .errors import (
    InvalidParam,
    ZgwAmbiguous,
    ZgwAuthError,
    ZgwBadResponse,
    ZgwClientError,
    ZgwConflict,
    ZgwError,
    ZgwLocked,
    ZgwLockError,
    ZgwLockMissing,
    ZgwNotFound,
    ZgwNotLocked,
    ZgwPreconditionFailed,
    ZgwServerError,
    ZgwTimeout,
    ZgwTooLarge,
    ZgwUnavailable,
    ZgwValidationError,
    ZgwWrongLock,
)

__all__ = [
    "by_identificatie",
    "Catalogue",
    "CatalogueAmbiguous",
    "CatalogueLookupError",
    "CatalogueNotFound",
    "InvalidParam",
    "JwtAuth",
    "record_zgw_calls",
    "ZgwAmbiguous",
    "ZgwApiClient",
    "ZgwAuthError",
    "ZgwBadResponse",
    "ZgwCall",
    "ZgwClientError",
    "ZgwClients",
    "ZgwConflict",
    "ZgwError",
    "ZgwLocked",
    "ZgwLockError",
    "ZgwLockMissing",
    "ZgwNotFound",
    "ZgwNotLocked",
    "ZgwPreconditionFailed",
    "ZgwServerError",
    "ZgwTimeout",
    "ZgwTooLarge",
    "ZgwUnavailable",
    "ZgwValidationError",
    "ZgwWrongLock",
]
