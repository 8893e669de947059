"""Did a primary ZGW write land? Asked by the outbox sweep (``OutboxWorker.sweep_once``) for an intent item whose
process died between its primary call and the commit of its answer, with primary ``zgw``.

What ZGW itself can tell: a creeerZaak landed when ZGW has a zaak with its identificatie (the item's partition key).
For any other operation ZGW's state does not say whether this very message was applied (an updateZaak may have set
what was there already), so the answer is "cannot tell" and the item is parked as dead for an operator, who checks
ZGW and retries or skips it. A journal of the gateway's ZGW write steps can answer these too: it plugs in as another
``PrimaryCheck``.
"""

from __future__ import annotations

from ..store import OutboxEntry
from ..zgw import ZgwClients


def function_of(soap_action: str | None) -> str | None:
    """The ZDS function of a SOAPAction (``.../creeerZaak_ZakLk01`` -> ``creeerZaak``), or None."""
    if not soap_action:
        return None
    name = soap_action.strip().strip('"').rstrip("/").rpartition("/")[2]
    return name.partition("_")[0] or None


class PrimaryUndecided(Exception):
    """A ``PrimaryCheck`` cannot tell yet (the message is still being processed or recovered): the item stays held
    and is looked at again after the outbox lease, not parked dead."""


class ZgwPrimaryCheck:
    """``PrimaryCheck`` from ZGW's own state (see the module's text)."""

    def __init__(self, zgw: ZgwClients):
        self.zgw = zgw

    async def __call__(self, entry: OutboxEntry) -> bool | None:
        zaak = entry.partition_key
        if function_of(entry.soap_action) != "creeerZaak" or zaak.startswith(("doc:", "msg:")):
            return None
        found = await self.zgw.zaken.list("zaken", {"identificatie": zaak}, max_items=2)
        return bool(found)
