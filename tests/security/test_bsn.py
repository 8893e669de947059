"""Findings 7 and 9. A BSN is never cut. Too long, too short, not digits or failing the elfproef: a fault that names the
element, and no zaak is created (the rol would have named another person)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stuf_bridge.gateway import parse_answer
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.validation import Schemas

from ..operations.conftest import running_harness
from ..operations.messages import INITIATOR, creeer_zaak

NS = {"StUF": STUF}
VALID = "999993653"


@pytest.mark.parametrize(("bsn", "problem"), [
    ("1999993653", "9 cijfers, niet 10"),
    ("99999365", "9 cijfers, niet 8"),
    ("999993654", "elfproef"),
    ("999 99 3653", "9 cijfers"),
])
async def test_a_wrong_bsn_is_a_fault_naming_the_element(make_settings: Callable[..., Settings], schemas: Schemas,
                                                        bsn: str, problem: str) -> None:
    assert VALID in INITIATOR
    body, headers = creeer_zaak(identificatie=f"0363BSN-{len(bsn)}-{bsn[-1]}", referentienummer=f"bsn-{bsn}",
                                initiator=INITIATOR.replace(VALID, bsn))
    async with running_harness(make_settings(), schemas) as harness:
        response = await harness.post(body, headers)
        assert harness.posted("/zaken") == []  # no zaak: nothing is half-written
    assert response.status_code == 500, response.text
    message = parse_answer(response.content)
    details = message.findtext(".//StUF:details", namespaces=NS) or ""
    assert "inp.bsn" in details and problem in details, details
    assert message.findtext(".//StUF:code", namespaces=NS) == "StUF058"
    assert "ingekort" not in response.text
    assert bsn.replace(" ", "") not in details  # the refused value is not repeated


async def test_voeg_besluit_toe_with_a_nil_identificatie_is_a_fault(make_settings: Callable[..., Settings],
                                                                    schemas: Schemas) -> None:
    """Finding 9: a nil besluit identificatie was a KeyError answered as "Interne fout"."""
    from stuf_bridge.stuf.registry import Service

    from ..operations.besluit_messages import voeg_besluit_toe

    async with running_harness(make_settings(), schemas) as harness:
        body, headers = creeer_zaak(identificatie="0363NIL-BSL", referentienummer="nil-bsl-zaak")
        assert (await harness.post(body, headers)).status_code == 200
        body, headers = voeg_besluit_toe(identificatie="WEG", zaak="0363NIL-BSL", referentienummer="nil-bsl")
        body = body.replace(b"<ZKN:identificatie>WEG</ZKN:identificatie>",
                            b'<ZKN:identificatie xsi:nil="true" StUF:noValue="geenWaarde"/>')
        reply = await harness.gateway.handle(Service.VRIJE_BERICHTEN, body, content_type=headers["Content-Type"],
                                             soap_action=headers["SOAPAction"])
        assert (reply.fault_code, reply.fault_reason) == ("StUF058", "required-element-missing")
        assert harness.posted("/besluiten") == []


def test_asyncpg_protocol_breakage_is_a_store_error() -> None:
    """Finding 9: asyncpg's InternalClientError (backends terminated) is translated like any driver error."""
    asyncpg = pytest.importorskip("asyncpg")
    from stuf_bridge.faults import to_fault
    from stuf_bridge.store import store as store_module

    assert asyncpg.InternalClientError in store_module._FOREIGN_ERRORS
    store = store_module.Store("sqlite://")
    with pytest.raises(store_module.StoreError) as caught, store._translated("claim"):
        raise asyncpg.InternalClientError("cannot switch to state 12")
    fault = to_fault(caught.value)
    assert fault.reason == "store-unavailable"
    assert "state 12" not in (fault.details or "") and "sqlite" not in (fault.details or "")
