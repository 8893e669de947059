"""The PostgreSQL fixtures of the store tests (throw-away databases), for the outbox tests with several processes."""

from __future__ import annotations

from tests.store.conftest import pg_admin_url, pg_database_factory

__all__ = ["pg_admin_url", "pg_database_factory"]
