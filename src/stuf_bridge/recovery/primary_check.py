"""The outbox's ``PrimaryCheck`` from the step journal (outbox/primary.py): did the primary ZGW side of a replicated
message land, for an intent item (``held``) whose process died between the primary call and the commit of its
answer?

ZGW's own state answers that only for a creeerZaak (a zaak with its identificatie); the journal answers it for every
operation, because the primary's ZGW writes were journalled under the message's claim:

- the claim is ``done`` (the answer was committed), or the journal says the message was resolved as ``completed``:
  it landed (the item goes on: ``pending``);
- no claim and no journal: the message failed and everything of it was undone (or it never wrote): it did not land
  (``skipped``); the same for a pending claim without journal rows whose holder is gone (it wrote nothing);
- a journal whose holder is gone: the message is resolved now, as a resend would (take-over, look-ups, the rule):
  ``completed`` → landed, ``clean`` (undone) → not landed;
- its holder is another process that still runs, or the resolution cannot finish now (ZGW away):
  ``PrimaryUndecided`` — the item stays held and is looked at again after the outbox lease, instead of being
  parked dead for an operator.

A creeerZaak is left to ZGW's own state (``ZgwPrimaryCheck``: a zaak with its identificatie), as are items whose
key does not name a message. (Recovery at start-up, which runs long before an intent is swept, has then resolved
the message already: a zaak it undid is not there.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..outbox.primary import PrimaryUndecided, ZgwPrimaryCheck, function_of
from ..security.tenants import unscoped
from .journal import Journal, Key
from .service import recover_message

if TYPE_CHECKING:
    from ..store import OutboxEntry, Store
    from ..zgw import ZgwClients

_CLAIM = "SELECT state, owner FROM messages WHERE zender = :zender AND referentienummer = :ref"


def message_key(idem_key: str) -> Key | None:
    """The claim key of the message an item belongs to: its idem_key is ``zender|referentienummer|leg``, with
    ``|digest`` after it for a sender whose claims are by body (their claim key is ``referentienummer|digest``).
    A tenant's item has ``tenant=NAME|`` before it, and its claim key ``|tenant=NAME`` after the zender
    (pipeline/claim.py)."""
    tenant, idem_key = unscoped(idem_key)
    parts = idem_key.split("|")
    zender = parts[0] if tenant is None else f"{parts[0]}|tenant={tenant}"
    if len(parts) == 3:
        return zender, parts[1]
    if len(parts) == 4:
        return zender, f"{parts[1]}|{parts[3]}"
    return None


class JournalPrimaryCheck:
    """``PrimaryCheck`` from the step journal (see the module's text)."""

    def __init__(self, store: Store, zgw: ZgwClients, journal: Journal, *, settle_seconds: float = 60.0):
        self.store = store
        self.zgw = zgw
        self.journal = journal
        self.settle_seconds = settle_seconds
        self.fallback = ZgwPrimaryCheck(zgw)

    async def __call__(self, entry: OutboxEntry) -> bool | None:
        key = message_key(entry.idem_key)
        if key is None or function_of(entry.soap_action) == "creeerZaak":
            return await self.fallback(entry)
        claim = await self.store.statement("recovery.primary_claim", _CLAIM, {"zender": key[0], "ref": key[1]})
        state, holder = (str(claim[0]), claim[1]) if claim is not None else (None, None)
        if state == "done":
            return True
        message = await self.journal.message(key)
        if message is None:
            if state is None:
                return False  # failed, everything undone (the journal of a failed message is kept otherwise)
            if holder and (holder == self.journal.owner.id or await self.journal.is_gone(str(holder))):
                return False  # its processing ended (its process died) before it wrote anything to ZGW
            raise PrimaryUndecided(f"bericht {key[1]!r} wordt nog verwerkt")
        if message.state == "completed":
            return True
        # a message of this process: the worker leaves the intents under way here alone (LIVE_INTENTS), so this one's
        # processing ended without the commit of its answer
        mine = message.owner == self.journal.owner.id
        if not mine and not await self.journal.is_gone(message.owner):
            raise PrimaryUndecided(f"bericht {key[1]!r} wordt nog verwerkt of hersteld door een lopend proces")
        if message.state == "active" and not await self.journal.take(key, message.owner):
            raise PrimaryUndecided(f"bericht {key[1]!r} is door een ander proces overgenomen")
        if self.journal.working_on(key):
            raise PrimaryUndecided(f"bericht {key[1]!r} wordt in dit proces nog verwerkt of hersteld")
        async with self.journal.working(key):  # a resend arriving now waits until this is done
            swept = await recover_message(self.store, self.zgw, self.journal, message,
                                          settle_seconds=self.settle_seconds)
        outcome = swept.resolution.outcome if swept.resolution is not None else "completed"
        if outcome == "left":
            raise PrimaryUndecided(f"bericht {key[1]!r} is nog niet hersteld: {swept.resolution.summary()}"
                                   if swept.resolution is not None else f"bericht {key[1]!r} is nog niet hersteld")
        return outcome == "completed"
