"""The trace store (``trace/store.py``) on every kind of store: SQLite file, SQLite in memory, PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from stuf_bridge.store import Store
from stuf_bridge.trace.store import TraceFilter, TraceStore


def _row(ref: str, when: dt.datetime, **more: Any) -> dict[str, Any]:
    detail = {"referentienummer": ref, "calls": [], "request": {"text": "<x/>" * 200}}
    return {"correlation_id": f"c-{ref}", "received_at": when, "duration_ms": 2.5, "endpoint": "/zds/OntvangAsynchroon",
            "soap": "1.1", "dialect": "1.1", "operation": "creeerZaak_Lk01", "zender": "0363/Open Formulieren",
            "ontvanger": "0363/stuf-bridge", "referentienummer": ref, "zaak": "0363ZK1",
            "identificaties": " 0363ZK1 0363D7 ", "outcome": "ok", "fault_code": None, "fault_reason": None,
            "calls": 0, "size": 0, "detail": json.dumps(detail), **more}


async def test_write_search_update_prune(store_of_each_kind: Store) -> None:
    traces = TraceStore(store_of_each_kind)
    now = dt.datetime.now(dt.UTC)
    [running] = await traces.write([_row("a", now - dt.timedelta(days=40)), _row("b_%", now)], [],
                                   [_row("c", now, outcome="in-progress", duration_ms=None)])
    rows, total = await traces.search(TraceFilter())
    assert total == 3 and [r.referentienummer for r in rows] == ["c", "b_%", "a"]
    assert rows[0].outcome == "in-progress" and rows[0].identificaties == ("0363ZK1", "0363D7")
    await traces.write([], [(running, _row("c", now, outcome="fault", fault_code="StUF058"))])
    assert [r.referentienummer for r in (await traces.search(TraceFilter(outcome="StUF058")))[0]] == ["c"]
    assert (await traces.search(TraceFilter(text="b_%")))[1] == 1  # LIKE wildcards are taken literally
    assert (await traces.search(TraceFilter(text="b_")))[1] == 1
    assert (await traces.search(TraceFilter(zaak="0363D7")))[1] == 3
    assert (await traces.search(TraceFilter(zaak="0363D")))[1] == 0  # exactly that identificatie
    assert (await traces.search(TraceFilter(operation="creeerZaak")))[1] == 3
    assert (await traces.search(TraceFilter(since=now - dt.timedelta(days=1))))[1] == 2
    whole = await traces.get(running)
    assert whole is not None and whole["referentienummer"] == "c" and whole["outcome"] == "fault"
    assert [t["referentienummer"] for t in await traces.by_referentienummer("a")] == ["a"]
    count, size = await traces.size()
    assert count == 3 and 0 < size < 3 * 800 * 2  # compressed
    assert await traces.prune(dt.timedelta(days=14), 10**9) == 1
    assert await traces.prune(dt.timedelta(days=14), size // 3) >= 1
    assert (await traces.search(TraceFilter()))[1] <= 1
    [extra] = await traces.write([], [], [_row("d", now)])
    assert await traces.delete(extra) is True and await traces.delete(extra) is False
    assert await traces.get(extra) is None
