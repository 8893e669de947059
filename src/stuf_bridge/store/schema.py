"""The current shape of the store's tables, for queries. Changes go through a migration as well."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table

SEQUENCE_NAME_LENGTH = 200

metadata = MetaData()

#: Named counters; ``value`` is the last value handed out.
sequences = Table(
    "sequences",
    metadata,
    Column("name", String(SEQUENCE_NAME_LENGTH), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
