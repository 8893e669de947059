"""The gateway's client for the ZGW APIs: one async httpx client per API with JWT, the catalogue cache, and ZGW
errors as typed exceptions. It knows no StUF: nothing here imports ``stuf``, ``soap`` or ``web``."""

from .auth import JwtAuth
from .catalogue import Catalogue, CatalogueAmbiguous, CatalogueLookupError, CatalogueNotFound
from .client import ZgwApiClient, ZgwCall, ZgwClients, by_identificatie, record_zgw_calls
from .errors import (
    InvalidParam,
    ZgwAuthError,
    ZgwBadResponse,
    ZgwClientError,
    ZgwConflict,
    ZgwError,
    ZgwNotFound,
    ZgwPreconditionFailed,
    ZgwServerError,
    ZgwTimeout,
    ZgwUnavailable,
    ZgwValidationError,
)

__all__ = [
    "Catalogue",
    "CatalogueAmbiguous",
    "CatalogueLookupError",
    "CatalogueNotFound",
    "InvalidParam",
    "JwtAuth",
    "ZgwApiClient",
    "ZgwAuthError",
    "ZgwBadResponse",
    "ZgwCall",
    "ZgwClientError",
    "ZgwClients",
    "ZgwConflict",
    "ZgwError",
    "ZgwNotFound",
    "ZgwPreconditionFailed",
    "ZgwServerError",
    "ZgwTimeout",
    "ZgwUnavailable",
    "ZgwValidationError",
    "by_identificatie",
    "record_zgw_calls",
]
