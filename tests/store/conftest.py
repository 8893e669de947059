"""Fixtures for the store tests: SQLite files, throw-away PostgreSQL databases and worker processes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import URL, make_url

import stuf_bridge.store
from stuf_bridge.store import Store, create_store

PG_URL_ENV = "STUF_BRIDGE_TEST_PG_URL"
PG_DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKER = Path(__file__).with_name("store_worker.py")
SRC = Path(stuf_bridge.store.__file__).resolve().parents[2]


# --- SQLite -------------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a data directory that does not exist yet."""
    return f"sqlite:///{tmp_path / 'data' / 'stuf-bridge.db'}"


@pytest_asyncio.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    store = create_store(sqlite_url)
    await store.open()
    yield store
    await store.close()


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def _plain(url: URL) -> str:
    """A libpq-style DSN for asyncpg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(admin_url: URL, *statements: str) -> None:
    """Run ``statements`` on the admin connection; usable from sync and async tests alike."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # a loop of its own
        pool.submit(asyncio.run, _admin_async(admin_url, *statements)).result()


async def _admin_async(admin_url: URL, *statements: str) -> None:
    conn = await asyncpg.connect(_plain(admin_url), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> URL:
    """The admin connection; skips the PostgreSQL tests when unreachable, except on CI (CI=true)."""
    url = make_url(os.environ.get(PG_URL_ENV, PG_DEFAULT_ADMIN_URL))
    try:
        _admin(url, "SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        message = f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_database_factory(pg_admin_url: URL) -> Iterator[Callable[[], str]]:
    """Creates uniquely named empty databases; drops them all at the end of the session."""
    created: list[str] = []

    def create() -> str:
        name = f"stuf_bridge_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        _admin(pg_admin_url, f'CREATE DATABASE "{name}"')
        created.append(name)
        return pg_admin_url.set(database=name).render_as_string(hide_password=False)

    yield create

    for name in created:
        _admin(
            pg_admin_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            f'DROP DATABASE IF EXISTS "{name}"',
        )


@pytest.fixture(scope="session")
def pg_url(pg_database_factory: Callable[[], str]) -> str:
    """The session's database; tests share it, so each uses sequence names of its own."""
    return pg_database_factory()


@pytest_asyncio.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = create_store(pg_url)
    await store.open()
    yield store
    await store.close()


@pytest_asyncio.fixture(params=["sqlite-file", "sqlite-memory", "postgresql"])
async def store_of_each_kind(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[Store]:
    """A fresh, empty store of each kind: a SQLite file (inline driver SQL where the store has it), an in-memory
    SQLite database and PostgreSQL (a database of its own)."""
    if request.param == "sqlite-file":
        url = sqlite_url
    elif request.param == "sqlite-memory":
        url = "sqlite:///:memory:"
    else:
        factory: Callable[[], str] = request.getfixturevalue("pg_database_factory")
        url = factory()
    async with create_store(url) as store:
        yield store


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- worker processes ---------------------------------------------------------------------------------------


def _run_workers(argvs: list[list[str]], timeout: float = 120) -> list[Any]:
    """Start one ``store_worker.py`` per argv, release them together once all are ready, return their results.

    Blocking; from an async test call it through ``asyncio.to_thread``.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                _, err = proc.communicate(timeout=timeout)
                pytest.fail(f"worker did not get ready (said {line!r}):\n{err}")
        for proc in procs:  # the starting gun
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                pytest.fail(f"worker exited with {proc.returncode}:\n{err}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def run_workers() -> Callable[..., list[Any]]:
    """``run_workers([argv, ...])``: see ``_run_workers``."""
    return _run_workers
