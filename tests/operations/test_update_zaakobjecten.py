"""updateZaak and zaakobjecten (heeftBetrekkingOp) by verwerkingssoort: T adds, W changes in place (PUT), R
replaces, V/E remove, I leaves alone (MAPPING.md §3.3; ZaakBrug #599). A failure rolls every change back."""

from __future__ import annotations

from ..support.faults import stuf_fault
from .conftest import Harness
from .messages import creeer_zaak
from .test_creeer_zaak import berichtcode
from .update_messages import adres, no_adres, update_zaak, zaak_object

ZAAK = "0363ZK2024-000101"
FIRST = "0363200000123456"
SECOND = "0363200000654321"


async def _zaak_with_one_adres(harness: Harness) -> dict:
    reply = await harness.handle(*creeer_zaak(relations=adres(FIRST), referentienummer="zo-create"))
    assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken")
    return zaak


async def _adressen(harness: Harness, zaak: dict) -> list[tuple[str, int]]:
    return sorted((z["objectIdentificatie"]["identificatie"], z["objectIdentificatie"]["huisnummer"])
                  for z in await harness.all("zaakobjecten", zaak=zaak["url"]))


async def test_t_adds_a_zaakobject(harness: Harness) -> None:
    zaak = await _zaak_with_one_adres(harness)
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, adres(SECOND, "7")), referentienummer="zo-t"))
    assert reply.status == 200, reply.body.decode()
    assert await _adressen(harness, zaak) == [(FIRST, 263), (SECOND, 7)]


async def test_w_changes_the_zaakobject_in_place(harness: Harness) -> None:
    zaak = await _zaak_with_one_adres(harness)
    [before] = await harness.all("zaakobjecten", zaak=zaak["url"])
    reply = await harness.handle(*update_zaak(
        zaak_object(ZAAK, adres(FIRST, soort="W")), zaak_object(ZAAK, adres(FIRST, "265", soort="W")),
        referentienummer="zo-w"))
    assert reply.status == 200, reply.body.decode()
    [after] = await harness.all("zaakobjecten", zaak=zaak["url"])
    assert after["url"] == before["url"]  # a PUT, not a new object
    assert after["objectIdentificatie"]["huisnummer"] == 265


async def test_v_removes_and_r_replaces(harness: Harness) -> None:
    zaak = await _zaak_with_one_adres(harness)
    reply = await harness.handle(*update_zaak(
        zaak_object(ZAAK, adres(FIRST, soort="R")), zaak_object(ZAAK, adres(SECOND, "7", soort="R")),
        referentienummer="zo-r"))
    assert reply.status == 200, reply.body.decode()
    assert await _adressen(harness, zaak) == [(SECOND, 7)]

    reply = await harness.handle(*update_zaak(
        zaak_object(ZAAK, adres(SECOND, "7", soort="V")), zaak_object(ZAAK, no_adres("V")),
        referentienummer="zo-v"))
    assert reply.status == 200, reply.body.decode()
    assert await _adressen(harness, zaak) == []


async def test_v_of_an_unknown_adres_is_a_warning(harness: Harness) -> None:
    zaak = await _zaak_with_one_adres(harness)
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, adres(SECOND, "7", soort="V")),
                                              referentienummer="zo-v-unknown"))
    assert reply.status == 200, reply.body.decode()
    assert any("bestaat niet" in w for w in reply.warnings), reply.warnings
    assert await _adressen(harness, zaak) == [(FIRST, 263)]


async def test_a_failed_put_leaves_the_zaak_as_it_was(harness: Harness) -> None:
    zaak = await _zaak_with_one_adres(harness)
    harness.transport.fail_on = ("POST", "/resultaten", 1)  # after the PUT: the PUT must be undone
    resultaat = "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving></ZKN:resultaat>"
    response = await harness.post(*update_zaak(
        zaak_object(ZAAK, adres(FIRST, soort="W")),
        zaak_object(ZAAK, resultaat + adres(FIRST, "265", soort="W")),
        referentienummer="zo-w-fail"))
    harness.transport.fail_on = None
    assert berichtcode(response) == "Fo03"
    details = stuf_fault(response).details
    assert "POST resultaten" in details and "PUT zaakobjecten" in details, details
    assert await _adressen(harness, zaak) == [(FIRST, 263)]
    assert (await harness.zgw.get(zaak["url"]))["resultaat"] is None
