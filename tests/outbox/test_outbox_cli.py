"""``stuf-bridge outbox list|retry|skip`` on the store ``serve`` uses (data directory from the flag)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest

from stuf_bridge.cli import main
from stuf_bridge.outbox.store import hold, spool
from stuf_bridge.settings import load_settings
from stuf_bridge.store import OutboxItem, create_store

STALE = dt.timedelta(minutes=10)


async def _fill(data_dir: Path) -> tuple[int, int]:
    """Two items of zaak A (the first dead) and one of zaak B; returns (dead id, pending id of A)."""
    async with create_store(load_settings(None, data_dir=data_dir).store_url) as store:
        for ref, zaak in (("a1", "ZAAK-A"), ("a2", "ZAAK-A"), ("b1", "ZAAK-B")):
            await store.claim_message("z", ref, "d", "op", stale_after=STALE)
            await store.complete_message("z", ref, b"<Bv03/>", [OutboxItem(zaak, "legacy:OntvangAsynchroon", b"<m/>",
                                                                           "text/xml", None, f"z|{ref}|legacy")])
        first = await store.claim_outbox(dt.timedelta(seconds=30))
        assert first is not None
        await store.outbox_dead(first.id, "HTTP 500, StUF StUF064 plek client: niet gevonden")
        items = await store.outbox_items()
        return first.id, items[1].id


async def _status(data_dir: Path, item: int) -> str:
    async with create_store(load_settings(None, data_dir=data_dir).store_url) as store:
        entry = await store.outbox_item(item)
        assert entry is not None
        return entry.status


def test_list_retry_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STUF_BRIDGE_DATABASE_URL", "STUF_BRIDGE_CONFIG", "STUF_BRIDGE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    dead, parked = asyncio.run(_fill(data))
    assert main(["outbox", "list", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out[1:4]] == [[str(dead), "dead"], [str(parked), "pending"],
                                                       [str(parked + 1), "pending"]]
    assert "StUF064 plek client" in out[1] and "ZAAK-A" in out[1]
    assert out[-1].startswith("pending 2, dead 1")
    assert main(["outbox", "list", "--dead", "--data-dir", str(data)]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-1]] == [str(dead)]
    assert main(["outbox", "skip", str(parked), "--data-dir", str(data)]) == 1  # not dead
    assert "is not dead" in capsys.readouterr().err
    assert main(["outbox", "retry", str(dead), "--data-dir", str(data)]) == 0
    assert asyncio.run(_status(data, dead)) == "pending"
    assert main(["outbox", "retry", str(dead), "--data-dir", str(data)]) == 1
    capsys.readouterr()
    asyncio.run(_kill(data, dead))
    assert main(["outbox", "skip", str(dead), "--data-dir", str(data)]) == 0
    assert "skipped" in capsys.readouterr().out
    assert asyncio.run(_status(data, dead)) == "skipped"


async def _kill(data_dir: Path, item: int) -> None:
    async with create_store(load_settings(None, data_dir=data_dir).store_url) as store:
        entry = await store.claim_outbox(dt.timedelta(seconds=30))
        assert entry is not None and entry.id == item
        await store.outbox_dead(item, "again")


async def _fill_large(data_dir: Path) -> int:
    """A dead item whose payload is a blob, and an intent (held) of another zaak; returns the dead item's id."""
    async with create_store(load_settings(None, data_dir=data_dir).store_url) as store:
        blob = await spool(store, io.BytesIO(b"d" * 5000), 5000)
        await store.enqueue_outbox([OutboxItem("ZAAK-C", "legacy:OntvangAsynchroon", b"", "text/xml", None,
                                               "z|c1|legacy", payload_ref=blob, payload_size=5000)])
        await hold(store, OutboxItem("ZAAK-D", "zgw:OntvangAsynchroon", b"<m/>", "text/xml", None, "z|d1|zgw"),
                   due_in=dt.timedelta(minutes=15))
        entry = await store.claim_outbox(dt.timedelta(seconds=30))
        assert entry is not None
        await store.outbox_dead(entry.id, "HTTP 500, StUF StUF064 plek client")
        return entry.id


async def _blobs(data_dir: Path) -> int:
    async with create_store(load_settings(None, data_dir=data_dir).store_url) as store:
        row = await store.outbox_statement("count", "SELECT COUNT(*) FROM outbox_blobs", {})
        return int(row[0])


def test_list_shows_intents_and_skip_drops_a_large_payload(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STUF_BRIDGE_DATABASE_URL", "STUF_BRIDGE_CONFIG", "STUF_BRIDGE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    dead = asyncio.run(_fill_large(data))
    assert main(["outbox", "list", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out[1:3]] == ["dead", "held"]
    assert asyncio.run(_blobs(data)) == 1
    assert main(["outbox", "skip", str(dead), "--data-dir", str(data)]) == 0
    assert asyncio.run(_blobs(data)) == 0
