"""updateZaak's rol replacement is idempotent by what ZGW holds (operations/zaak_update.py ``_rol_changes``): a
resend of an updateZaak whose rol POST lost its answer ends with exactly one rol per roltype and a Bv03 — with the
claim off for the sender (``idempotency_senders: off``: no claim, so no step journal to repair it first) and with
it on. Run over HTTP (ASGI) through the fault-injecting proxy of the recovery tests (``FaultProxy``), at every
write position of each message: the answer lost after the backend did the write, the write landing after the
gateway's timeout, the backend gone from that write on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas

from ..operations.update_messages import persoon, update_zaak, zaak_object
from .faults import MODES, SCENARIOS, Message, Round, Scenario, _zaak
from .test_fault_matrix import berichtcode, every_position, policy_settings, running_rig

INITIATOR = {"relation": "heeftAlsInitiator", "entiteit": "ZAKBTRINI"}


def _belanghebbende(r: Round) -> list[Message]:
    return [_zaak(r), update_zaak(zaak_object(r.zaak, persoon("999990019", "Jansen")),
                                  referentienummer=f"{r.ref}-setup2")]


# a rol replaced in each of the ways updateZaak replaces one (was/wordt W, one object T of a single rol)
ROL_SCENARIOS = {
    # the same betrokkene, another name: the old rol and the new one share the BSN
    "initiator-zelfde-bsn": SCENARIOS["updateZaak"],
    # another betrokkene in a rol a zaak may have several of: the undo of the DELETE puts the old one back
    "belanghebbende-ander": Scenario(
        "blhAnder",
        lambda r: update_zaak(
            zaak_object(r.zaak, persoon("999990019", "Jansen", soort="W")),
            zaak_object(r.zaak, persoon("999990020", "De Vries", soort="W")),
            referentienummer=r.ref),
        _belanghebbende),
    # another initiator (ZGW allows one: the undo's POST of the old one is refused while the new one is there)
    "initiator-ander": Scenario(
        "iniAnder",
        lambda r: update_zaak(
            zaak_object(r.zaak, persoon("999993653", "Visser", soort="W", **INITIATOR)),
            zaak_object(r.zaak, persoon("999990032", "Bakker", soort="W", **INITIATOR)),
            referentienummer=r.ref),
        lambda r: [_zaak(r)]),
    # Open Formulieren's one object: a new initiator (T) replaces the zaak's current one
    "initiator-vervangen": Scenario(
        "iniVerv",
        lambda r: update_zaak(zaak_object(r.zaak, persoon("999990044", "Smit", **INITIATOR)), referentienummer=r.ref),
        lambda r: [_zaak(r)]),
}


def _rollen_per_roltype(rollen: list[tuple[str, str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for roltype, _, _ in rollen:
        counts[roltype] = counts.get(roltype, 0) + 1
    return counts


@pytest.mark.parametrize("policy", ["off", "strict"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(ROL_SCENARIOS))
async def test_a_resend_of_a_rol_replacement_ends_with_one_rol(
    name: str, mode: str, policy: str, make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    scenario = ROL_SCENARIOS[name]
    settings = policy_settings(make_settings, policy)
    async with running_rig(settings, schemas) as rig:
        expected, writes, wrong = await every_position(rig, scenario, mode)
        assert writes >= 2 and all(n == 1 for n in _rollen_per_roltype(expected["rollen"]).values()), expected
        assert not wrong, f"{name}/{mode}/{policy}: expected {expected}; wrong at write positions: {wrong}"


async def test_claim_off_rol_post_answer_lost_then_resend(
    make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    """The case of issue 14 spelled out: a sender without claim, the new belanghebbende's POST done by ZGW but its
    answer lost. The first answer is a fault; the resend posts no second rol: Bv03, one belanghebbende."""
    scenario = ROL_SCENARIOS["belanghebbende-ander"]
    settings = policy_settings(make_settings, "off")
    async with running_rig(settings, schemas) as rig:
        r = scenario.round(1)
        for message in scenario.setup(r):
            assert berichtcode(await rig.send(message)) == "Bv03"
        rig.proxy.arm("lost", 2)  # write 1: DELETE the old rol; write 2: POST the new one
        first = await rig.send(scenario.message(r))
        await rig.proxy.restore()
        assert first.status_code == 500 and "POST rollen" in first.text, first.text
        zaak = (await rig.zgw.zaken.list("zaken", {"identificatie": r.zaak}))[0]
        before = await rig.zgw.zaken.list("rollen", {"zaak": zaak["url"]})
        bsns = sorted(rol["betrokkeneIdentificatie"]["inpBsn"] for rol in before
                      if rol["betrokkeneIdentificatie"].get("inpBsn") != "999993653")  # not the initiator
        assert bsns == ["999990019", "999990020"]  # the old one put back by the undo, the new one lost its answer

        resend = await rig.send(scenario.message(r))
        assert resend.status_code == 200 and berichtcode(resend) == "Bv03", resend.text
        after = await rig.zgw.zaken.list("rollen", {"zaak": zaak["url"]})
        bsns = sorted(rol["betrokkeneIdentificatie"]["inpBsn"] for rol in after)
        assert bsns == ["999990020", "999993653"]
