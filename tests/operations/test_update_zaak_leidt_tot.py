"""A besluit through updateZaak (Suites4SociaalDomein "605 Koppelen Besluit": leidtTot on the new object, an empty
leidtTot on the old one) and through creeerZaak; a failure afterwards takes the besluit away again."""

from __future__ import annotations

from ..support.faults import stuf_fault
from .besluit_messages import leidt_tot, nil_leidt_tot
from .conftest import Harness
from .messages import creeer_zaak, status
from .test_creeer_zaak import berichtcode
from .update_messages import update_zaak, zaak_object

ZAAK = "0363ZK2024-000701"


async def _zaak(harness: Harness) -> dict:
    reply = await harness.handle(*creeer_zaak(identificatie=ZAAK, zaaktype="OMGEVINGSVERGUNNING", statussen="",
                                              referentienummer="lt-create"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    return zaak


async def test_update_zaak_leidt_tot_creates_the_besluit_of_the_zaak(harness: Harness) -> None:
    zaak = await _zaak(harness)
    reply = await harness.handle(*update_zaak(
        zaak_object(ZAAK, nil_leidt_tot()), zaak_object(ZAAK, leidt_tot("0363B20240000001")),
        referentienummer="lt-605"))
    assert reply.status == 200, reply.body.decode()
    besluiten = [b async for b in harness.zgw.besluiten.iterate("besluiten", {"zaak": zaak["url"]})]
    assert [b["identificatie"] for b in besluiten] == ["0363B20240000001"]
    besluittype = await harness.zgw.get(besluiten[0]["besluittype"])
    assert besluittype["omschrijving"] == "Omgevingsvergunning verleend"


async def test_creeer_zaak_leidt_tot(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(
        identificatie=ZAAK, zaaktype="OMGEVINGSVERGUNNING", statussen="", referentienummer="lt-creeer",
        zaak_relations=leidt_tot("0363B20240000002")))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    besluiten = [b async for b in harness.zgw.besluiten.iterate("besluiten", {"zaak": zaak["url"]})]
    assert [b["identificatie"] for b in besluiten] == ["0363B20240000002"]


async def test_a_failure_after_the_besluit_removes_it_again(harness: Harness) -> None:
    zaak = await _zaak(harness)
    harness.transport.fail_on = ("POST", "/statussen", 1)
    response = await harness.post(*update_zaak(
        zaak_object(ZAAK, status("Ontvangen", "20241106101500", "1") + leidt_tot("0363B20240000003")),
        referentienummer="lt-fail"))
    harness.transport.fail_on = None
    assert berichtcode(response) == "Fo03"
    assert "POST statussen" in stuf_fault(response).details
    assert [b async for b in harness.zgw.besluiten.iterate("besluiten", {"zaak": zaak["url"]})] == []
