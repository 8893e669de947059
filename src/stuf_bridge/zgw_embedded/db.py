"""The store: one SQLite file, one table per resource kind, each row a JSON document plus indexed columns.

The connection is used synchronously from the event loop. Every query is short, and a request never awaits inside
a transaction, so the check-then-write sequences (uniqueness, closing a zaak) are serialised without locks, as
Open Zaak's database transactions serialise them. Unique indexes back up the checks across processes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# table → indexed columns, filled from the document key of the same name (or "_" + name)
TABLES: dict[str, tuple[str, ...]] = {
    "catalogus": ("domein", "rsin"),
    "zaaktype": ("catalogus", "identificatie", "concept"),
    "statustype": ("zaaktype", "volgnummer"),
    "roltype": ("zaaktype", "omschrijvingGeneriek"),
    "resultaattype": ("zaaktype",),
    "informatieobjecttype": ("catalogus", "concept", "omschrijving"),
    "besluittype": ("catalogus", "concept", "omschrijving"),
    "eigenschap": ("zaaktype", "naam"),
    "zaaktypeinformatieobjecttype": ("zaaktype", "informatieobjecttype"),
    "zaak": ("identificatie", "bronorganisatie", "zaaktype", "hoofdzaak"),
    "status": ("zaak", "statustype", "sortkey"),
    "rol": ("zaak", "roltype", "betrokkeneType", "omschrijvingGeneriek"),
    "resultaat": ("zaak", "resultaattype"),
    "zaakinformatieobject": ("zaak", "informatieobject"),
    "zaakobject": ("zaak", "object", "objectType"),
    "zaakeigenschap": ("zaak", "eigenschap"),
    "zaakbesluit": ("zaak", "besluit"),
    "enkelvoudiginformatieobject": ("identificatie", "bronorganisatie", "informatieobjecttype", "lock"),
    "eio_versie": ("eio", "versie"),
    "bestandsdeel": ("informatieobject", "volgnummer"),
    "objectinformatieobject": ("informatieobject", "object", "objectType"),
    "gebruiksrechten": ("informatieobject",),
    "besluit": ("identificatie", "verantwoordelijkeOrganisatie", "besluittype", "zaak"),
    "besluitinformatieobject": ("besluit", "informatieobject"),
}

UNIQUE: dict[str, Sequence[tuple[str, ...]]] = {
    "zaak": [("bronorganisatie", "identificatie")],
    "enkelvoudiginformatieobject": [("bronorganisatie", "identificatie")],
    "eio_versie": [("eio", "versie")],
    "besluit": [("verantwoordelijkeOrganisatie", "identificatie")],
    "resultaat": [("zaak",)],
    "zaakinformatieobject": [("zaak", "informatieobject")],
    "besluitinformatieobject": [("besluit", "informatieobject")],
    "status": [("zaak", "sortkey")],
}

SCHEMA_VERSION = 1


class Where:
    """A conjunction of SQL conditions on one table; ``None`` values are skipped."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.parts: list[str] = []
        self.params: list[Any] = []

    def col(self, name: str) -> str:
        if name in TABLES[self.table] or name in ("uuid", "seq"):
            return f'"{name}"'
        return f"json_extract(data, '$.{name}')"

    def eq(self, name: str, value: Any) -> Where:
        if value is not None:
            self.parts.append(f"{self.col(name)} = ?")
            self.params.append(_column_value(value))
        return self

    def isin(self, name: str, values: Sequence[Any] | None) -> Where:
        if values is not None:
            if not values:
                self.parts.append("0")
            else:
                self.parts.append(f"{self.col(name)} IN ({','.join('?' * len(values))})")
                self.params.extend(_column_value(v) for v in values)
        return self

    def cmp(self, name: str, op: str, value: Any) -> Where:
        assert op in ("<", "<=", ">", ">=", "!=")
        if value is not None:
            self.parts.append(f"{self.col(name)} {op} ?")
            self.params.append(_column_value(value))
        return self

    def isnull(self, name: str, value: bool | None) -> Where:
        if value is not None:
            self.parts.append(f"{self.col(name)} IS {'' if value else 'NOT '}NULL")
        return self

    def raw(self, sql: str, *params: Any) -> Where:
        self.parts.append(sql)
        self.params.extend(params)
        return self

    def never(self) -> Where:
        self.parts.append("0")
        return self

    def sql(self) -> str:
        return " AND ".join(f"({p})" for p in self.parts) if self.parts else "1"


def _column_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._migrate()

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, (re)opened on first use: an app whose lifespan ran and ended can start again."""
        if self._conn is None:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _migrate(self) -> None:
        with self.tx():
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            for table, columns in TABLES.items():
                cols = "".join(f', "{c}"' for c in columns)
                self.conn.execute(
                    f'CREATE TABLE IF NOT EXISTS "{table}" (seq INTEGER PRIMARY KEY AUTOINCREMENT, '
                    f"uuid TEXT NOT NULL UNIQUE, data TEXT NOT NULL{cols})"
                )
                for c in columns:
                    self.conn.execute(f'CREATE INDEX IF NOT EXISTS "ix_{table}_{c}" ON "{table}" ("{c}")')
                for i, unique in enumerate(UNIQUE.get(table, ())):
                    cols_sql = ", ".join(f'"{c}"' for c in unique)
                    self.conn.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{table}_{i}" ON "{table}" ({cols_sql})')
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One write transaction; nested use joins the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    # --- documents --------------------------------------------------------------------------------------------
    def _columns(self, table: str, doc: dict[str, Any]) -> list[Any]:
        return [_column_value(doc.get(c, doc.get("_" + c))) for c in TABLES[table]]

    def insert(self, table: str, doc: dict[str, Any]) -> None:
        cols = TABLES[table]
        names = "".join(f', "{c}"' for c in cols)
        marks = ", ?" * len(cols)
        self.conn.execute(
            f'INSERT INTO "{table}" (uuid, data{names}) VALUES (?, ?{marks})',
            [doc["uuid"], _dumps(doc), *self._columns(table, doc)],
        )

    def update(self, table: str, doc: dict[str, Any]) -> None:
        cols = TABLES[table]
        sets = "".join(f', "{c}" = ?' for c in cols)
        self.conn.execute(
            f'UPDATE "{table}" SET data = ?{sets} WHERE uuid = ?',
            [_dumps(doc), *self._columns(table, doc), doc["uuid"]],
        )

    def get(self, table: str, uuid: str) -> dict[str, Any] | None:
        row = self.conn.execute(f'SELECT data FROM "{table}" WHERE uuid = ?', (uuid,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, table: str, uuid: str) -> None:
        self.conn.execute(f'DELETE FROM "{table}" WHERE uuid = ?', (uuid,))

    def delete_where(self, where: Where) -> None:
        self.conn.execute(f'DELETE FROM "{where.table}" WHERE {where.sql()}', where.params)

    def select(
        self, where: Where, *, order: str = "seq", limit: int | None = None, offset: int = 0
    ) -> list[dict[str, Any]]:
        sql = f'SELECT data FROM "{where.table}" WHERE {where.sql()} ORDER BY {order}'
        params = list(where.params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [json.loads(r[0]) for r in self.conn.execute(sql, params)]

    def find(self, table: str, **equal: Any) -> list[dict[str, Any]]:
        where = Where(table)
        for name, value in equal.items():
            where.eq(name, value)
        return self.select(where)

    def first(self, table: str, **equal: Any) -> dict[str, Any] | None:
        found = self.find(table, **equal)
        return found[0] if found else None

    def count(self, where: Where) -> int:
        return int(self.conn.execute(f'SELECT COUNT(*) FROM "{where.table}" WHERE {where.sql()}', where.params)
                   .fetchone()[0])

    def exists(self, table: str, **equal: Any) -> bool:
        where = Where(table)
        for name, value in equal.items():
            where.eq(name, value)
        return self.conn.execute(f'SELECT 1 FROM "{table}" WHERE {where.sql()} LIMIT 1', where.params).fetchone() \
            is not None

    def next_number(self, name: str) -> int:
        with self.tx():
            self.conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return int(self.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def is_empty(self) -> bool:
        return self.conn.execute('SELECT 1 FROM "catalogus" LIMIT 1').fetchone() is None
