"""The PostgreSQL fixtures of the store tests (throw-away databases), for the outbox tests with several processes,
and a fresh store of each kind."""

from __future__ import annotations

from tests.store.conftest import pg_admin_url, pg_database_factory, sqlite_url, store_of_each_kind

__all__ = ["pg_admin_url", "pg_database_factory", "sqlite_url", "store_of_each_kind"]
