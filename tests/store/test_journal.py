"""The step journal's store code on every kind of store (SQLite file, SQLite in memory, PostgreSQL): intents and
outcomes, the batching upsert, take-over from a gone process, forgetting answered messages."""

from __future__ import annotations

import datetime as dt
import subprocess

from stuf_bridge.recovery.journal import Journal, Owner
from stuf_bridge.store import Store

KEY = ("0363/OpenFormulieren/", "ref-journal-1")


async def test_intents_outcomes_and_take_over(store_of_each_kind: Store) -> None:
    store = store_of_each_kind
    mine = Journal(store)
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
    await store.claim_message(*KEY, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1))
    await store.complete_message(*KEY, b"<answer/>")
    await mine.purge_done()
    assert await mine.rows(KEY) == [] and await mine.message(KEY) is None
    assert await mine.message(other_key) is not None
