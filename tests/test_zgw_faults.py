"""ZGW errors become the StUF faults of MAPPING.md §1.3, quoting the backend's reason."""

from __future__ import annotations

import pytest

from stuf_bridge.errors import fault_for_zgw
from stuf_bridge.zgw import (
    CatalogueNotFound,
    ZgwAuthError,
    ZgwBadResponse,
    ZgwServerError,
    ZgwTimeout,
    ZgwUnavailable,
    ZgwValidationError,
)


@pytest.mark.parametrize(
    "error, fo02, fo03, plek",
    [
        (ZgwValidationError("POST /zaken → 400 identificatie-niet-uniek"), "StUF058", "StUF058", "client"),
        (ZgwAuthError("GET /zaken → 403 permission_denied"), "StUF058", "StUF058", "server"),
        (ZgwServerError("GET /zaken → 502"), "StUF049", "StUF046", "server"),
        (ZgwUnavailable("GET /zaken → connection refused"), "StUF049", "StUF046", "server"),
        (ZgwTimeout("GET /zaken → timeout"), "StUF960", "StUF046", "server"),
        (ZgwBadResponse("GET /zaken → 200 but not JSON"), "StUF058", "StUF058", "server"),
        (CatalogueNotFound("geen zaaktype B999; aanwezig: B1026", kind="zaaktype", searched={"identificatie": "B999"}),
         "StUF058", "StUF058", "client"),
    ],
)
def test_zgw_errors_map_to_stuf_codes(error: Exception, fo02: str, fo03: str, plek: str) -> None:
    fault = fault_for_zgw(error)
    assert (fault.code_for("Fo02"), fault.code_for("Fo03"), fault.plek) == (fo02, fo03, plek)
    assert str(error) in fault.details
