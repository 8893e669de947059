"""What real clients send that the StUF rules allow or that clients do in the field (issue 13), each with a
message of its own: the gateway must process it, not fault on it."""

from __future__ import annotations

from .conftest import Harness
from .messages import creeer_zaak, status
from .test_zaakstatus import ZAAK, statussen
from .update_messages import update_zaak, zaak_object


async def test_update_zaak_repeating_the_current_status_skips_it_and_applies_the_rest(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(referentienummer="rc-1a"))
    assert reply.status == 200, reply.body.decode()
    # the whole zaak on every update: the status it has, and one change
    whole = "<ZKN:omschrijving>Stoeptegels, bijgewerkt</ZKN:omschrijving>" + status("Ontvangen", "20241105", "1")
    reply = await harness.handle(*update_zaak(zaak_object(ZAAK, whole), referentienummer="rc-1b"))
    assert reply.status == 200, reply.body.decode()
    assert any("niet opnieuw gezet" in w for w in reply.warnings), reply.warnings
    [zaak] = await harness.all("zaken", identificatie=ZAAK)
    assert zaak["omschrijving"] == "Stoeptegels, bijgewerkt"
    assert [s[0] for s in await statussen(harness, zaak)] == ["Ontvangen"]
