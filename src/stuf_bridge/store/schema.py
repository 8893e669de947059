"""The current shape of the store's tables, for queries. Changes go through a migration as well."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table, text

SEQUENCE_NAME_LENGTH = 200

metadata = MetaData()

#: Named counters; ``value`` is the last value handed out.
sequences = Table(
    "sequences",
    metadata,
    Column("name", String(SEQUENCE_NAME_LENGTH), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: Idempotency records: one row per (zender, referentienummer) of a message that changes something.
#: ``state`` is ``pending`` while the message is processed and ``done`` with the answer once it succeeded.
messages = Table(
    "messages",
    metadata,
    Column("zender", String(200), primary_key=True),
    Column("referentienummer", String(200), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("operation", String(100), nullable=False),
    Column("state", String(10), nullable=False),
    Column("answer", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("owner", String(100), nullable=True),  # the process that holds the claim (recovery's journal owner)
)

#: The zaak registry: the route a zaak was created under (pinned: the first one written stays), with its zaaktype.
zaak_routes = Table(
    "zaak_routes",
    metadata,
    Column("identificatie", String(200), primary_key=True),
    Column("zaaktype", String(200), nullable=True),
    Column("mode", String(20), nullable=False),
    Column("primary", String(20), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: A document's zaak, for messages that name only the document (geefZaakdocumentLezen, updateZaakdocument, ...).
document_zaken = Table(
    "document_zaken",
    metadata,
    Column("document", String(200), primary_key=True),
    Column("zaak", String(200), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: The outbox (replicate's durable secondary leg): one row per message and target, delivered at least once, in order
#: per ``partition_key`` (the zaak identificatie; ``doc:<id>`` or ``msg:<referentienummer>`` without one). ``status``
#: is pending | inflight (claimed by a worker until ``lease_until``) | done | dead (parks its partition) | skipped.
#: ``held`` is an intent written before the primary call (turned pending when the message's answer is stored, resolved
#: by the sweep when its process died); ``kind`` says what the item is (``replicate``; other features add theirs).
#: ``payload`` holds the raw request bytes when they are small; a large one is in ``outbox_blobs`` under
#: ``payload_ref`` (``payload`` then empty), never whole in memory. ``finished_at``: when it became done or skipped.
#: The predicates of the outbox's partial indexes; the claim's SQL spells its conditions the same way (as literals:
#: PostgreSQL uses a partial index only when the query's condition implies the predicate, which a bound parameter
#: does not).
OUTBOX_PENDING = text("status = 'pending'")
OUTBOX_WAITING = text("status IN ('pending', 'inflight', 'dead', 'held')")
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("partition_key", String(250), nullable=False),
    Column("target", String(100), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("content_type", String(500), nullable=True),
    Column("soap_action", String(500), nullable=True),
    Column("idem_key", String(600), nullable=False, unique=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_error", String(2000), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_outbox_pending", "id", postgresql_where=OUTBOX_PENDING, sqlite_where=OUTBOX_PENDING),
    Index("ix_outbox_waiting", "partition_key", "id", postgresql_where=OUTBOX_WAITING, sqlite_where=OUTBOX_WAITING),
    Index("ix_outbox_status", "status", "next_attempt_at"),
    Column("kind", String(40), nullable=False, server_default="replicate"),
    Column("payload_ref", String(100), nullable=True),
    Column("payload_size", BigInteger, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_finished", "status", "finished_at"),
)

#: A large outbox payload in chunks (``seq`` from 0), written before the item that refers to it is committed.
outbox_blobs = Table(
    "outbox_blobs",
    metadata,
    Column("blob", String(100), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
