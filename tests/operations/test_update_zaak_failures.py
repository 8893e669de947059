"""A backend failure at every write step of one rich updateZaak leaves the backend as it was before the message.

The message changes everything updateZaak can change at once: a zaak field (PATCH), a rol (W: DELETE + POST), an
adres in place (PUT) and a new one (POST), a deelzaak (PATCH of the other zaak), the resultaat (GET, DELETE, POST)
and a status. Each parametrised case lets the n-th call of one kind fail and compares a snapshot of everything
the message could touch, taken before and after. URLs of re-created objects differ (ZGW has no undelete), so the
snapshot compares content.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..support.faults import stuf_fault
from .conftest import Harness
from .messages import creeer_zaak, status, zaak_relatie
from .test_creeer_zaak import berichtcode
from .update_messages import adres, persoon, update_zaak, zaak_object

ZAAK = "0363ZK2024-000601"
DEEL = "0363ZK2024-000602"
FIRST = "0363200000123456"
SECOND = "0363200000654321"
_VOLATILE = {"url", "uuid"}


async def _setup(harness: Harness) -> tuple[dict, dict]:
    for body in (
        creeer_zaak(identificatie=ZAAK, zaaktype="OMGEVINGSVERGUNNING", resultaat="Verleend",
                    relations=adres(FIRST) + persoon("111222333", "Jansen"), referentienummer="f-1"),
        creeer_zaak(identificatie=DEEL, zaaktype="BEZWAAR", statussen="", referentienummer="f-2"),
    ):
        reply = await harness.handle(*body)
        assert reply.status == 200, reply.body.decode()
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    [deel] = await harness.all("zaken", identificatie=DEEL)
    return zaak, deel


def _message(referentienummer: str) -> tuple[bytes, dict[str, str]]:
    resultaat = "<ZKN:resultaat><ZKN:omschrijving>Geweigerd</ZKN:omschrijving></ZKN:resultaat>"
    was = zaak_object(ZAAK, "<ZKN:omschrijving>Melding losliggende stoeptegels</ZKN:omschrijving>"
                      + adres(FIRST, soort="W")
                      + persoon("111222333", "Jansen", soort="W"))
    wordt = zaak_object(ZAAK, "<ZKN:omschrijving>Aanvraag dakkapel</ZKN:omschrijving>" + resultaat
                        + adres(FIRST, "265", soort="W") + adres(SECOND, "7", soort="T")
                        + persoon("444555602", "de Vries", soort="W")
                        + zaak_relatie("heeftAlsDeelzaak", DEEL)
                        + status("In behandeling", "20241106101500", "3"))
    return update_zaak(was, wordt, referentienummer=referentienummer)


def _content(items: list[dict[str, Any]], *volatile: str) -> list[str]:
    skip = _VOLATILE | set(volatile)
    return sorted(repr(sorted((k, v) for k, v in item.items() if k not in skip)) for item in items)


async def _snapshot(harness: Harness, zaak: dict, deel: dict) -> dict[str, Any]:
    current = await harness.zgw.get(zaak["url"])
    resultaat = await harness.zgw.get(current["resultaat"]) if current.get("resultaat") else None
    return {
        # links to re-created objects change; their content is compared below
        "zaak": {k: v for k, v in current.items() if k not in ("resultaat", "rollen", "zaakobjecten")},
        "resultaat": _content([resultaat]) if resultaat else None,
        # a re-created rol is registered anew (ZRC sets registratiedatum): the rest is the same
        "rollen": _content(await harness.all("rollen", zaak=zaak["url"]), "registratiedatum"),
        "zaakobjecten": _content(await harness.all("zaakobjecten", zaak=zaak["url"])),
        "statussen": _content(await harness.all("statussen", zaak=zaak["url"])),
        "deelzaak": (await harness.zgw.get(deel["url"]))["hoofdzaak"],
    }


async def test_the_message_does_everything_when_nothing_fails(harness: Harness) -> None:
    zaak, deel = await _setup(harness)
    before = await _snapshot(harness, zaak, deel)
    reply = await harness.handle(*_message("f-ok"))
    assert reply.status == 200, reply.body.decode()
    after = await _snapshot(harness, zaak, deel)
    assert after["zaak"]["omschrijving"] == "Aanvraag dakkapel"
    assert after["deelzaak"] == zaak["url"]
    for key in ("resultaat", "rollen", "zaakobjecten", "statussen"):
        assert after[key] != before[key], key


STEPS = [
    ("PATCH", "zaak", 1, "PATCH zaken"),
    ("DELETE", "/rollen/*", 1, "DELETE rollen"),
    ("POST", "/rollen", 1, "POST rollen"),
    ("PUT", "/zaakobjecten/*", 1, "PUT zaakobjecten"),
    ("POST", "/zaakobjecten", 1, "POST zaakobjecten"),
    ("PATCH", "deel", 1, "PATCH zaken (hoofdzaak van deelzaak"),
    ("GET", "/resultaten/*", 1, "GET resultaten"),
    ("DELETE", "/resultaten/*", 1, "DELETE resultaten"),
    ("POST", "/resultaten", 1, "POST resultaten"),
    ("POST", "/statussen", 1, "POST statussen"),
]


@pytest.mark.parametrize(("method", "target", "nth", "step"), STEPS, ids=[s[3] for s in STEPS])
async def test_a_failure_at_any_step_leaves_the_backend_as_before(
    harness: Harness, method: str, target: str, nth: int, step: str
) -> None:
    zaak, deel = await _setup(harness)
    before = await _snapshot(harness, zaak, deel)
    url = {"zaak": zaak["url"], "deel": deel["url"]}.get(target)
    harness.transport.fail_on = (method, "/" + url.rsplit("/", 1)[-1] if url else target, nth)
    harness.transport.seen = 0
    response = await harness.post(*_message(f"f-{method}-{target}"))
    harness.transport.fail_on = None
    assert berichtcode(response) == "Fo03", response.text
    details = stuf_fault(response).details
    assert step in details, details
    after = await _snapshot(harness, zaak, deel)
    for key, value in before.items():
        assert after[key] == value, key

    # and the client can simply send it again
    reply = await harness.handle(*_message(f"f-{method}-{target}"))
    assert reply.status == 200, reply.body.decode()
