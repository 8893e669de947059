"""updateZaak's zaakobject changes are idempotent by what ZGW holds (operations/zaak_update.py
``_zaakobject_changes``): a resend of an updateZaak whose zaakobject POST, PUT or DELETE lost its answer ends with
the zaakobjecten a clean run makes, no second one, and a Bv03 — with the claim off for the sender
(``idempotency_senders: off``: no claim, so no step journal to repair it first) and with it on. Run over HTTP (ASGI)
through the fault-injecting proxy of the recovery tests (``FaultProxy``), at every write position of each message:
the answer lost after the backend did the write, the write landing after the gateway's timeout, the backend gone
from that write on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas

from ..operations.messages import creeer_zaak, status
from ..operations.update_messages import adres, no_adres, update_zaak, zaak_object
from .faults import MODES, Message, Round, Scenario
from .test_fault_matrix import berichtcode, every_position, policy_settings, running_rig

FIRST = "0363200000123456"
SECOND = "0363200000654321"
OMSCHRIJVING = "<ZKN:omschrijving>Gewijzigd</ZKN:omschrijving>"


def _zaak_met_adres(r: Round) -> list[Message]:
    return [creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup", relations=adres(FIRST))]


def _zaak_zonder_adres(r: Round) -> list[Message]:
    return [creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup")]


# a zaakobject changed in each of the ways updateZaak changes one, each with another write before or after it
ZAAKOBJECT_SCENARIOS = {
    # T on a zaak with another zaakobject (its zaakobjecten read), then a status: the POST undone when that fails
    "toevoegen": Scenario(
        "zoToev",
        lambda r: update_zaak(zaak_object(r.zaak, adres(SECOND, "7") + status("In behandeling", "20241106", "2")),
                              referentienummer=r.ref),
        _zaak_met_adres),
    # T on a zaak without zaakobjecten (none read: the zaak lists none), after a PATCH of the zaak
    "toevoegen-eerste": Scenario(
        "zoEerst",
        lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:omschrijving>Melding</ZKN:omschrijving>"),
                              zaak_object(r.zaak, OMSCHRIJVING + adres(FIRST)), referentienummer=r.ref),
        _zaak_zonder_adres),
    # R: DELETE the old, POST the new; the undo of the DELETE puts the old one back
    "vervangen": Scenario(
        "zoVerv",
        lambda r: update_zaak(zaak_object(r.zaak, adres(FIRST, soort="R")),
                              zaak_object(r.zaak, adres(SECOND, "7", soort="R")), referentienummer=r.ref),
        _zaak_met_adres),
    # W: a PUT in place (the same identificatie, another huisnummer), after a PATCH of the zaak
    "wijzigen": Scenario(
        "zoWijz",
        lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:omschrijving>Melding</ZKN:omschrijving>"
                                          + adres(FIRST, soort="W")),
                              zaak_object(r.zaak, OMSCHRIJVING + adres(FIRST, "265", soort="W")),
                              referentienummer=r.ref),
        _zaak_met_adres),
    # W naming another adres: the PUT changes the zaakobject's identificatie, so a resend no longer finds the old one
    "wijzigen-ander-adres": Scenario(
        "zoWAnd",
        lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:omschrijving>Melding</ZKN:omschrijving>"
                                          + adres(FIRST, soort="W")),
                              zaak_object(r.zaak, OMSCHRIJVING + adres(SECOND, "7", soort="W")),
                              referentienummer=r.ref),
        _zaak_met_adres),
    # V: a DELETE, after a PATCH of the zaak
    "verwijderen": Scenario(
        "zoVerw",
        lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:omschrijving>Melding</ZKN:omschrijving>"
                                          + adres(FIRST, soort="V")),
                              zaak_object(r.zaak, OMSCHRIJVING + no_adres("V")), referentienummer=r.ref),
        _zaak_met_adres),
}


@pytest.mark.parametrize("policy", ["off", "strict"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(ZAAKOBJECT_SCENARIOS))
async def test_a_resend_of_a_zaakobject_change_ends_as_a_clean_run(
    name: str, mode: str, policy: str, make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    scenario = ZAAKOBJECT_SCENARIOS[name]
    settings = policy_settings(make_settings, policy)
    async with running_rig(settings, schemas) as rig:
        expected, writes, wrong = await every_position(rig, scenario, mode)
        assert writes >= 2, (name, writes)
        assert not wrong, f"{name}/{mode}/{policy}: expected {expected}; wrong at write positions: {wrong}"


async def test_claim_off_zaakobject_post_answer_lost_then_resend(
    make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    """The case of issue 14 for zaakobjecten: a sender without claim, the new adres's POST (R, after the DELETE of
    the old one) done by ZGW but its answer lost. The first answer is a fault; ZGW holds the old adres (put back by
    the undo) and the new one. The resend removes the old one and posts no second new one: Bv03, one adres."""
    scenario = ZAAKOBJECT_SCENARIOS["vervangen"]
    settings = policy_settings(make_settings, "off")
    async with running_rig(settings, schemas) as rig:
        r = scenario.round(1)
        for message in scenario.setup(r):
            assert berichtcode(await rig.send(message)) == "Bv03"
        rig.proxy.arm("lost", 2)  # write 1: DELETE the old zaakobject; write 2: POST the new one
        first = await rig.send(scenario.message(r))
        await rig.proxy.restore()
        assert first.status_code == 500 and "POST zaakobjecten" in first.text, first.text
        zaak = (await rig.zgw.zaken.list("zaken", {"identificatie": r.zaak}))[0]

        async def adressen() -> list[str]:
            return sorted(zo["objectIdentificatie"]["identificatie"]
                          for zo in await rig.zgw.zaken.list("zaakobjecten", {"zaak": zaak["url"]}))

        assert await adressen() == [FIRST, SECOND]  # the old one put back by the undo, the new one's answer lost

        resend = await rig.send(scenario.message(r))
        assert resend.status_code == 200 and berichtcode(resend) == "Bv03", resend.text
        assert await adressen() == [SECOND]
