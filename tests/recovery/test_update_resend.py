"""updateZaak's other writes (the PATCH of the zaak, statussen, zaakeigenschappen, the resultaat, closing) resent
after a fault, with the claim off for the sender (``idempotency_senders: off``: no claim, so no step journal to
repair the first copy, only what ZGW holds decides) and with it on: at every write position, in each of the three
ways of the fault proxy (tests/recovery/faults.py), the resend answers Bv03 and ZGW holds what a clean run makes.
The rollen and zaakobjecten have their own: test_rol_replacement.py, test_zaakobject_changes.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas

from ..operations.document_messages import voeg_zaakdocument_toe
from ..operations.besluit_messages import leidt_tot
from ..operations.messages import creeer_zaak, status
from ..operations.update_messages import update_zaak, zaak_object
from .faults import MODES, SCENARIOS, Round, Scenario, snapshot
from .test_fault_matrix import Rig, berichtcode, every_position, policy_settings, running_rig

EIGENSCHAPPEN = """<StUF:extraElementen>
      <StUF:extraElement naam="categorie">groen</StUF:extraElement>
      <StUF:extraElement naam="locatie">Vondelpark, bij de muziektent</StUF:extraElement>
    </StUF:extraElementen>"""
RESULTAAT = ("<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving>"
             "<ZKN:toelichting>nieuw</ZKN:toelichting></ZKN:resultaat>")

UPDATE_SCENARIOS = {
    "updateZaak": SCENARIOS["updateZaak"],
    # two statussen: a resend after the second failed finds the first on the zaak (not its current status when the
    # second landed after all): it is not posted again (ZGW would refuse it: one status per moment)
    "updateZaak-twee-statussen": SCENARIOS["updateZaak-twee-statussen"],
    # a zaakeigenschap changed (PATCH) and one added (POST), after a PATCH of the zaak
    "zaakeigenschappen": Scenario(
        "updEig",
        lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:omschrijving>Gewijzigd</ZKN:omschrijving>" + EIGENSCHAPPEN),
                              referentienummer=r.ref),
        lambda r: [creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup")]),
    # the resultaat replaced (DELETE + POST) and the zaak closed (its document's gebruiksrecht, the eindstatus)
    "resultaat-en-afsluiten": Scenario(
        "updSluit",
        lambda r: update_zaak(zaak_object(r.zaak, RESULTAAT + "<ZKN:einddatum>20241110</ZKN:einddatum>"),
                              referentienummer=r.ref),
        lambda r: [creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup", resultaat="Opgelost"),
                   voeg_zaakdocument_toe(identificatie=r.other, zaak=r.zaak, referentienummer=f"{r.ref}-doc")]),
    # leidtTot: a besluit created for the zaak (found by its identificatie on a resend), then a status
    "besluit": Scenario(
        "updBsl",
        lambda r: update_zaak(zaak_object(r.zaak, status("Ontvangen", "20241106101500", "1")
                                          + leidt_tot(f"B{r.other}")), referentienummer=r.ref),
        lambda r: [creeer_zaak(identificatie=r.zaak, zaaktype="OMGEVINGSVERGUNNING", statussen="",
                               referentienummer=f"{r.ref}-setup")]),
}


@pytest.mark.parametrize("policy", ["off", "strict"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(UPDATE_SCENARIOS))
async def test_a_resend_of_an_update_ends_as_a_clean_run(
    name: str, mode: str, policy: str, make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    scenario = UPDATE_SCENARIOS[name]
    settings = policy_settings(make_settings, policy)
    async with running_rig(settings, schemas) as rig:
        expected, writes, wrong = await every_position(rig, scenario, mode)
        assert writes >= 2, (name, writes)
        assert not wrong, f"{name}/{mode}/{policy}: expected {expected}; wrong at write positions: {wrong}"


AFSLUITEN = Scenario(
    "updGebr",
    lambda r: update_zaak(zaak_object(r.zaak, "<ZKN:resultaat><ZKN:omschrijving>Opgelost</ZKN:omschrijving>"
                                      "</ZKN:resultaat><ZKN:einddatum>20241110</ZKN:einddatum>"),
                          referentienummer=r.ref),
    lambda r: [creeer_zaak(identificatie=r.zaak, referentienummer=f"{r.ref}-setup")])


async def _zaak_met_document_zonder_gebruiksrecht(rig: Rig, r: Round) -> None:
    """The round's zaak with a document whose indicatieGebruiksrecht is unset (no StUF message makes one): closing
    the zaak sets it (a lock, a PATCH, an unlock)."""
    for message in AFSLUITEN.setup(r):
        assert berichtcode(await rig.send(message)) == "Bv03"
    zaak = (await rig.zgw.zaken.list("zaken", {"identificatie": r.zaak}))[0]
    zaaktype = await rig.zgw.catalogi.get(zaak["zaaktype"])
    [iot] = [i for i in await rig.zgw.catalogue.informatieobjecttypen(zaaktype) if i["omschrijving"] == "Melding"]
    eio = await rig.zgw.documenten.create("enkelvoudiginformatieobjecten", {
        "identificatie": r.other, "bronorganisatie": zaak["bronorganisatie"], "creatiedatum": "2024-11-05",
        "titel": "melding.pdf", "auteur": "Open Formulieren", "taal": "nld", "inhoud": "aGFsbG8=",
        "informatieobjecttype": iot["url"]})
    assert eio["indicatieGebruiksrecht"] is None
    await rig.zgw.zaken.create("zaakinformatieobjecten", {"zaak": zaak["url"], "informatieobject": eio["url"]})


# not covered with the claim off (docs/recovery.md "Not covered (yet)"): the lock taken to set a document's
# indicatieGebruiksrecht. Its answer lost (or the unlock refused), the document stays locked with a lock the gateway
# never learned, and without a journal the resend cannot tell it from a user's checkout: it refuses to close the zaak
# (zaak-has-checked-out-document). Strict, so the test says when the gap is closed. With the claim on, recovery
# undoes the PATCH from its plan (a forced unlock first) before the resend runs.
_GEBRUIKSRECHT_GAP = pytest.mark.xfail(strict=True, reason="without a journal the gebruiksrecht lock is not repaired")


@pytest.mark.parametrize("policy", [pytest.param("off", marks=_GEBRUIKSRECHT_GAP), "strict"])
@pytest.mark.parametrize("mode", MODES)
async def test_a_resend_of_a_closing_update_ends_as_a_clean_run(
    mode: str, policy: str, make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    """updateZaak closing a zaak whose document has no indicatieGebruiksrecht: the resultaat, the document's lock,
    PATCH and unlock, the eindstatus, each failed in turn (a known gap, above)."""
    settings = policy_settings(make_settings, policy)
    async with running_rig(settings, schemas) as rig:
        r = AFSLUITEN.round(0, "c")
        await _zaak_met_document_zonder_gebruiksrecht(rig, r)
        rig.proxy.count()
        assert berichtcode(await rig.send(AFSLUITEN.message(r))) == "Bv03"
        writes = rig.proxy.writes
        rig.proxy.disarm()
        expected = await snapshot(rig.zgw, AFSLUITEN, r)
        assert writes >= 5 and expected["documenten"][0][2] is False, (writes, expected)  # unlocked
        wrong = {}
        for nth in range(1, writes + 1):
            r = AFSLUITEN.round(nth, mode[0])
            await _zaak_met_document_zonder_gebruiksrecht(rig, r)
            rig.proxy.arm(mode, nth)
            first = await rig.send(AFSLUITEN.message(r))
            await rig.proxy.restore()
            resend = await rig.send(AFSLUITEN.message(r))
            found = await snapshot(rig.zgw, AFSLUITEN, r)
            if resend.status_code != 200 or berichtcode(resend) != "Bv03" or found != expected:
                wrong[nth] = {"first": first.text[-600:], "resend": resend.text[-900:], "zgw": found}
        assert not wrong, f"{mode}/{policy}: expected {expected}; wrong at write positions: {wrong}"
