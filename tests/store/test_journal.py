"""The step journal's store code on every kind of store (SQLite file, SQLite in memory, PostgreSQL): intents and
outcomes, the batching upsert, take-over from a gone process, forgetting answered messages."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from stuf_bridge.recovery.journal import Fenced, Journal, Owner
from stuf_bridge.store import Store

KEY = ("0363/OpenFormulieren/", "ref-journal-1")


async def test_intents_outcomes_and_take_over(store_of_each_kind: Store) -> None:
    store = store_of_each_kind
    mine = Journal(store)
    claim = await store.claim_message(*KEY, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                                      owner=mine.owner.id)
    assert claim.state == "new" and claim.journal is False
    assert await mine.begin(KEY, "creeerZaak_Lk01") is True
    assert await mine.begin(KEY, "creeerZaak_Lk01") is False  # an earlier copy's journal is there
    writes = mine.for_message(KEY, "creeerZaak_Lk01")
    zaak = await writes.before("POST", "http://zgw/zaken/api/v1/zaken", b'{"identificatie": "Z1", "inhoud": "x"}')
    await writes.after(zaak, "done", b'{"url": "http://zgw/zaken/api/v1/zaken/1", "identificatie": "Z1"}')
    rol = await writes.before("POST", "http://zgw/zaken/api/v1/rollen", b'{"zaak": "http://zgw/zaken/api/v1/zaken/1"}')
    assert rol is None  # a part of the zaak this message created: no row of its own
    besluit = await writes.before("POST", "http://zgw/besluiten/api/v1/besluiten", b'{"identificatie": "B1"}')
    await writes.after(besluit, "unknown", None)
    rows = await mine.rows(KEY)
    assert [(r.seq, r.method, r.resource, r.state) for r in rows] == [
        (1, "POST", "zaken", "done"), (2, "POST", "besluiten", "unknown")]
    assert rows[0].created == "http://zgw/zaken/api/v1/zaken/1"
    assert rows[0].body == {"identificatie": "Z1", "inhoud": None}  # document content is never journalled

    # another process finds it held by a process that is gone (on this host, its pid ended)
    proc = subprocess.Popen(["true"])
    proc.wait()
    gone = Owner()
    gone.pid = proc.pid
    theirs = Journal(store, gone)
    await theirs.register()
    other_key = ("0363/OpenFormulieren/", "ref-journal-2")
    await theirs.begin(other_key, "updateZaak_Lk01")
    assert await mine.is_gone(gone.id) is True
    assert await mine.is_gone(mine.owner.id) is False
    assert await mine.take(other_key, gone.id) is True
    assert await mine.take(other_key, gone.id) is False  # taken once
    held = await mine.message(other_key)
    assert held is not None and held.owner == mine.owner.id and held.state == "active"
    assert {m.referentienummer for m in await mine.messages()} == {KEY[1], other_key[1]}

    # an answered message's journal is forgotten by the sweep's purge
    await store.complete_message(*KEY, b"<answer/>")
    await mine.purge_done()
    assert await mine.rows(KEY) == [] and await mine.message(KEY) is None
    assert await mine.message(other_key) is not None


async def test_claim_names_its_holder_and_its_earlier_journal(store_of_each_kind: Store) -> None:
    """The claim carries the owner (a resend sees whom it waits for) and says, in the same statement, whether an
    earlier copy left a journal; the message row is written with the first intent (one commit)."""
    store = store_of_each_kind
    mine, other = Journal(store), Journal(store)
    key = ("0363/OpenFormulieren/", "ref-journal-3")
    stale = dt.timedelta(hours=1)
    assert (await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=stale,
                                      owner=mine.owner.id)).journal is False
    pending = await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=stale, owner=other.owner.id)
    assert pending.state == "pending" and pending.owner == mine.owner.id
    writes = mine.for_message(key, "creeerZaak_Lk01", opened=False)
    seq = await writes.before("POST", "http://zgw/zaken/api/v1/zaken", b'{"identificatie": "Z3"}')
    assert seq == 1
    held = await mine.message(key)
    assert held is not None and held.owner == mine.owner.id and held.state == "active"
    await store.release_message(*key)  # the message failed with something left: the journal stays
    again = await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=stale, owner=other.owner.id)
    assert again.state == "new" and again.journal is True
    # a pending claim taken over (stale) names the new holder and reports the journal too
    await store.release_message(*key)
    await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=stale, owner=mine.owner.id)
    taken = await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(0),
                                      owner=other.owner.id)
    assert taken.state == "new" and taken.journal is True
    assert (await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=stale)).owner == other.owner.id


async def test_a_process_whose_message_was_taken_over_is_fenced(store_of_each_kind: Store) -> None:
    """A live process whose lease ran out (a long pause) and whose message another process took over: its next
    journal write finds the claim no longer its own, is not written, and raises Fenced (the ZGW write is not sent),
    and so does every later one."""
    store = store_of_each_kind
    paused, recovering = Journal(store), Journal(store)
    await paused.register()
    key = ("0363/OpenFormulieren/", "ref-journal-4")
    await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=paused.owner.id)
    writes = paused.for_message(key, "creeerZaak_Lk01", opened=False)
    zaak = await writes.before("POST", "http://zgw/zaken/api/v1/zaken", b'{"identificatie": "Z4"}')
    assert zaak is not None
    await writes.after(zaak, "done", b'{"url": "http://zgw/zaken/api/v1/zaken/4"}')

    assert await recovering.take(key, paused.owner.id) is True  # e.g. the sweep, after paused's lease ran out
    with pytest.raises(Fenced):
        await writes.before("POST", "http://zgw/besluiten/api/v1/besluiten", b'{"identificatie": "B4"}')
    assert writes.fenced
    with pytest.raises(Fenced):
        await writes.before("DELETE", "http://zgw/zaken/api/v1/zaken/4", None)  # nor its undo
    rows = await recovering.rows(key)
    assert [(r.seq, r.resource) for r in rows] == [(1, "zaken")]  # nothing of the late writes got in
    held = await recovering.message(key)
    assert held is not None and held.owner == recovering.owner.id

    # a claim released by recovery (resolved) fences as well
    key2 = ("0363/OpenFormulieren/", "ref-journal-5")
    await store.claim_message(*key2, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=paused.owner.id)
    late = paused.for_message(key2, "creeerZaak_Lk01", opened=False)
    await store.release_message(*key2)
    with pytest.raises(Fenced):
        await late.before("POST", "http://zgw/zaken/api/v1/zaken", b'{"identificatie": "Z5"}')
    assert await recovering.message(key2) is None


async def test_storing_the_answer_is_fenced_too(store_of_each_kind: Store) -> None:
    """A process taken over after its last journalled write (a pause between its last ZGW write and storing its
    answer) stores nothing: the answer is written only while the claim is still pending and names its holder. The
    process that took it over stores its own."""
    store = store_of_each_kind
    paused, recovering = Journal(store), Journal(store)
    await paused.register()
    key = ("0363/OpenFormulieren/", "ref-journal-6")
    await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=paused.owner.id)
    writes = paused.for_message(key, "creeerZaak_Lk01", opened=False)
    zaak = await writes.before("POST", "http://zgw/zaken/api/v1/zaken", b'{"identificatie": "Z6"}')
    assert zaak is not None
    assert await recovering.take(key, paused.owner.id) is True
    assert await store.complete_message(*key, b"<late/>", owner=paused.owner.id) is False
    pending = await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1))
    assert pending.state == "pending" and pending.owner == recovering.owner.id  # nothing of the late answer stored
    assert await store.complete_message(*key, b"<mine/>", owner=recovering.owner.id) is True
    done = await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1))
    assert done.state == "done" and done.answer == b"<mine/>"
    assert await store.complete_message(*key, b"<again/>", owner=recovering.owner.id) is False  # done already
    # a claim released by recovery is not stored into either
    key2 = ("0363/OpenFormulieren/", "ref-journal-7")
    await store.claim_message(*key2, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=paused.owner.id)
    await store.release_message(*key2)
    assert await store.complete_message(*key2, b"<late/>", owner=paused.owner.id) is False
    fresh = await store.claim_message(*key2, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                                      owner=recovering.owner.id)
    assert fresh.state == "new"


async def test_planned_writes_are_journalled_up_front(store_of_each_kind: Store) -> None:
    """A flow's statussen are journalled together before the first is sent (``planned``); sending one makes its row
    ``intent`` without a new seq; recovery reads a row still ``planned`` as never sent."""
    store = store_of_each_kind
    mine = Journal(store)
    key = ("0363/OpenFormulieren/", "ref-journal-8")
    await store.claim_message(*key, "d" * 64, "updateZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=mine.owner.id)
    writes = mine.for_message(key, "updateZaak_Lk01", opened=False)
    url = "http://zgw/zaken/api/v1/statussen"
    zaak = "http://zgw/zaken/api/v1/zaken/8"
    await writes.plan("POST", url, [("POST statussen (a, 1)", {"zaak": zaak, "statustype": "s1"}),
                                    ("POST statussen (b, 2)", {"zaak": zaak, "statustype": "s2"})])
    rows = await mine.rows(key)
    assert [(r.seq, r.state, r.body) for r in rows] == [(1, "planned", {"zaak": zaak, "statustype": "s1"}),
                                                       (2, "planned", {"zaak": zaak, "statustype": "s2"})]
    first = await writes.before("POST", url, b'{"zaak":"' + zaak.encode() + b'","statustype":"s1"}')
    assert first == 1
    assert [(r.seq, r.state, r.step) for r in await mine.rows(key)] == [
        (1, "intent", "POST statussen (a, 1)"), (2, "planned", "POST statussen (b, 2)")]
