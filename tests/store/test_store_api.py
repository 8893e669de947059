"""Backend-independent behaviour of the store: URLs, lifecycle and error translation."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from stuf_bridge.store import Store, StoreError, create_store

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+aiosqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u@db:5432/gw", "postgresql+asyncpg://u@db:5432/gw"),
        ("postgres://u@db/gw", "postgresql+asyncpg://u@db/gw"),
        ("postgresql+asyncpg://u@db/gw", "postgresql+asyncpg://u@db/gw"),
    ],
)
async def test_url_gets_the_async_driver(url: str, expected: str) -> None:
    assert make_url(create_store(url).url) == make_url(expected)


@pytest.mark.parametrize(
    "url", ["mysql://u@db/gw", "sqlite+pysqlite:///x.db", "postgresql+psycopg2://u@db/gw", "::"]
)
async def test_unsupported_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError):
        create_store(url)


async def test_password_is_masked() -> None:
    store = create_store("postgresql://u:geheim@127.0.0.1/gw")
    assert "geheim" not in store.url
    assert "geheim" not in repr(store)


async def test_closed_store_refuses_work(sqlite_url: str) -> None:
    store = create_store(sqlite_url)
    assert isinstance(store, Store)
    assert not store.is_open
    assert await store.ping() is False
    with pytest.raises(StoreError, match="not open"):
        await store.next_value("zaak")
    await store.close()  # closing a closed store is harmless


async def test_async_context_manager(sqlite_url: str) -> None:
    async with create_store(sqlite_url) as store:
        assert store.is_open
        assert await store.next_value("zaak") == 1
    assert not store.is_open


@pytest.mark.parametrize("name", ["", "x" * 201])
async def test_bad_sequence_name_is_refused(sqlite_store: Store, name: str) -> None:
    with pytest.raises(StoreError, match="sequence name"):
        await sqlite_store.next_value(name)


async def test_concurrent_open_of_one_store(sqlite_url: str) -> None:
    store = create_store(sqlite_url)
    await asyncio.gather(store.open(), store.open(), store.open())
    try:
        assert await store.next_value("zaak") == 1
    finally:
        await store.close()


async def test_unwritable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = create_store(f"sqlite:///{blocker / 'data' / 'x.db'}")
    with pytest.raises(StoreError, match="open failed") as caught:
        await store.open()
    assert isinstance(caught.value.__cause__, OSError)
    assert not store.is_open


async def test_unreachable_postgresql_is_a_store_error() -> None:
    with socket.socket() as sock:  # a local port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = create_store(f"postgresql://postgres:geheim@127.0.0.1:{port}/gw")
    with pytest.raises(StoreError, match="open failed") as caught:
        await store.open()
    assert "geheim" not in str(caught.value)
    assert caught.value.__cause__ is not None
    assert not store.is_open
    assert await store.ping() is False
