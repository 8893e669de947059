"""ZGW errors become the StUF faults of MAPPING.md §1.3, quoting the backend's reason."""

from __future__ import annotations

import pytest

from stuf_bridge.faults import to_fault
from stuf_bridge.zgw import (
    CatalogueAmbiguous,
    CatalogueNotFound,
    ZgwAmbiguous,
    ZgwAuthError,
    ZgwBadResponse,
    ZgwConflict,
    ZgwNotFound,
    ZgwServerError,
    ZgwTimeout,
    ZgwUnavailable,
    ZgwValidationError,
)

URL = "https://zgw.test/zaken/api/v1/zaken"


@pytest.mark.parametrize(
    "error, fo02, fo03, plek, reason",
    [
        (ZgwValidationError("POST /zaken → 400 identificatie-niet-uniek"), "StUF058", "StUF058", "client",
         "zgw-invalid"),
        (ZgwNotFound("GET /zaken/1 → 404 not_found"), "StUF058", "StUF058", "client", "zgw-not-found"),
        (ZgwConflict("PATCH /zaken/1 → 409 conflict"), "StUF058", "StUF058", "client", "zgw-conflict"),
        (ZgwAuthError("GET /zaken → 403 permission_denied"), "StUF058", "StUF058", "server", "zgw-auth"),
        (ZgwServerError("GET /zaken → 502"), "StUF049", "StUF046", "server", "zgw-server-error"),
        (ZgwUnavailable("GET /zaken → connection refused"), "StUF049", "StUF046", "server", "zgw-unavailable"),
        (ZgwTimeout("GET /zaken → timeout"), "StUF960", "StUF046", "server", "zgw-timeout"),
        (ZgwBadResponse("GET /zaken → 200 but not JSON"), "StUF058", "StUF058", "server", "zgw-bad-response"),
        (CatalogueNotFound("geen zaaktype B999; aanwezig: B1026", kind="zaaktype", searched={"identificatie": "B999"}),
         "StUF058", "StUF058", "client", "catalogue-not-found"),
        (CatalogueAmbiguous("twee roltypen Initiator", kind="roltype", searched={"omschrijving": "Initiator"}),
         "StUF058", "StUF058", "client", "catalogue-ambiguous"),
    ],
)
def test_zgw_errors_map_to_stuf_codes(error: Exception, fo02: str, fo03: str, plek: str, reason: str) -> None:
    fault = to_fault(error)
    assert (fault.code_for("Fo02"), fault.code_for("Fo03"), fault.plek, fault.reason) == (fo02, fo03, plek, reason)
    assert fault.details is not None and str(error) in fault.details


def test_an_ambiguous_identificatie_names_every_candidate() -> None:
    error = ZgwAmbiguous("Zaak", "ZAAK-1", [f"{URL}/1", f"{URL}/2"])
    fault = to_fault(error)
    assert (fault.code, fault.plek, fault.reason) == ("StUF058", "client", "ambiguous-identificatie")
    assert "ZAAK-1" in fault.omschrijving
    assert fault.details is not None and f"{URL}/1" in fault.details and f"{URL}/2" in fault.details
