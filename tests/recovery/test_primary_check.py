"""The outbox's check whether a primary ZGW write landed, from the step journal (recovery/primary_check.py): every
operation is decided (not only creeerZaak), a message still being processed is looked at again later, and a gone
process's message is resolved first, as a resend would."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from stuf_bridge.outbox.primary import PrimaryUndecided
from stuf_bridge.recovery.journal import Journal, Owner
from stuf_bridge.recovery.primary_check import JournalPrimaryCheck, message_key
from stuf_bridge.settings import Settings
from stuf_bridge.store import OutboxEntry, Store, create_store
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import ZgwClients

from .faults import SCENARIOS, snapshot
from .test_fault_matrix import running_rig
from .test_recovery import _dead_pid, _leave_half_a_zaak

ZENDER = "0363/OpenFormulieren/"
STALE = dt.timedelta(hours=1)


def entry(ref: str, soap_action: str = "http://www.egem.nl/StUF/sector/zkn/0310/updateZaak_Lk01") -> OutboxEntry:
    now = dt.datetime.now(dt.UTC)
    return OutboxEntry(1, "0363ZK-1", "legacy:OntvangAsynchroon", b"", "text/xml", soap_action,
                       f"{ZENDER}|{ref}|legacy", "held", 0, now, None, None, now)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = create_store(f"sqlite:///{tmp_path}/s.db")
    await store.open()
    yield store
    await store.close()


def test_the_message_key_of_an_item() -> None:
    assert message_key(f"{ZENDER}|ref-1|legacy") == (ZENDER, "ref-1")
    assert message_key(f"{ZENDER}|ref-1|legacy|{'a' * 32}") == (ZENDER, f"ref-1|{'a' * 32}")  # claims by body
    assert message_key("outbox-notification-17") is None
    # a tenant's item (outbox/replicate.py, scoped): its message's claim key names the tenant after the zender
    assert message_key(f"tenant=utrecht|{ZENDER}|ref-1|legacy") == (f"{ZENDER}|tenant=utrecht", "ref-1")
    assert message_key(f"tenant=utrecht|{ZENDER}|ref-1|legacy|{'a' * 32}") == (
        f"{ZENDER}|tenant=utrecht", f"ref-1|{'a' * 32}")


async def test_every_operation_is_decided_from_the_journal(
    store: Store, make_settings: Callable[..., Settings]
) -> None:
    async with ZgwClients.from_settings(make_settings(zgw_url="http://127.0.0.1:9")) as zgw:  # never called here
        mine = Journal(store)
        await mine.register()
        check = JournalPrimaryCheck(store, zgw, mine)

        # answered (the commit of the answer is what the process did not live to do for the item): landed
        await store.claim_message(ZENDER, "done-1", "d" * 64, "updateZaak_Lk01", stale_after=STALE)
        await store.complete_message(ZENDER, "done-1", b"<answer/>")
        assert await check(entry("done-1")) is True

        # no claim, no journal: failed and undone: it did not land
        assert await check(entry("nothing-1")) is False

        # resolved as completed by recovery earlier: landed
        await mine.begin((ZENDER, "completed-1"), "updateZaak_Lk01")
        await mine.set_message((ZENDER, "completed-1"), "completed")
        assert await check(entry("completed-1")) is True

        # held by a process that still runs (this one's other journal): not decided now, not parked dead
        live = Journal(store)
        await live.register()
        await store.claim_message(ZENDER, "live-1", "d" * 64, "updateZaak_Lk01", stale_after=STALE,
                                  owner=live.owner.id)
        with pytest.raises(PrimaryUndecided):
            await check(entry("live-1"))
        writes = live.for_message((ZENDER, "live-1"), "updateZaak_Lk01", opened=False)
        await writes.before("PATCH", "http://zgw/zaken/api/v1/zaken/1", b'{"omschrijving": "x"}')
        with pytest.raises(PrimaryUndecided):
            await check(entry("live-1"))

        # held by a process that died before it wrote anything: it did not land
        gone = Owner()
        gone.pid = _dead_pid()
        dead = Journal(store, gone)
        await dead.register()
        await store.claim_message(ZENDER, "dead-1", "d" * 64, "updateZaak_Lk01", stale_after=STALE, owner=gone.id)
        assert await check(entry("dead-1")) is False

        # a process that died after a write ZGW refused: resolved now (nothing to undo): it did not land, and the
        # claim is given up so that a resend runs
        await store.claim_message(ZENDER, "dead-2", "d" * 64, "updateZaak_Lk01", stale_after=STALE, owner=gone.id)
        failed = dead.for_message((ZENDER, "dead-2"), "updateZaak_Lk01", opened=False)
        seq = await failed.before("PATCH", "http://zgw/zaken/api/v1/zaken/1", b'{"omschrijving": "x"}')
        assert seq is not None
        await failed.after(seq, "failed", None)
        assert await check(entry("dead-2")) is False
        assert await mine.message((ZENDER, "dead-2")) is None
        assert (await store.claim_message(ZENDER, "dead-2", "d" * 64, "updateZaak_Lk01", stale_after=STALE)).state \
            == "new"


async def test_a_gone_process_s_half_message_is_undone_and_not_replicated(
    make_settings: Callable[..., Settings], schemas: Schemas
) -> None:
    """A process killed mid-message (here the bare zaak of a creeerZaak in ZGW, the rol's intent journalled; the
    item names an operation the journal decides): the check resolves the message as a resend would — the zaak is
    undone — and says the primary did not land (the item is skipped). A creeerZaak item itself is left to ZGW's
    state (a zaak with its identificatie)."""
    from .test_fault_matrix import rig_settings

    settings = rig_settings(make_settings)
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(1, "o")
    async with running_rig(settings, schemas) as rig:
        await _leave_half_a_zaak(rig, settings, r.zaak, r.ref)
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        check = JournalPrimaryCheck(store, rig.zgw, Journal(store), settle_seconds=0)
        creeer = entry(r.ref, "http://www.egem.nl/StUF/sector/zkn/0310/creeerZaak_Lk01")
        assert await check(creeer) is False  # ZGW's state: no zaak 0363ZK-1
        assert (await snapshot(rig.zgw, scenario, r))["zaken"] == 1  # not resolved by that
        assert await check(entry(r.ref)) is False
        assert (await snapshot(rig.zgw, scenario, r))["zaken"] == 0
