"""The step journal: what a message is about to write to ZGW, and what came of it (tables of migration 6).

Per claimed message a *message row* (``seq`` 0: operation, state, the process that holds it), and per ZGW write
one row (``seq`` 1, 2, …) written before the call (state ``intent``: method, URL, the body without
document content, the undo plan known beforehand) and updated after it: ``done`` (with the URL, lock and
identificatie from the answer), ``failed`` (the backend answered that it did not do it, or the request never left)
or ``unknown`` (a timeout after sending, a dropped connection, a 502/504). A message that ends cleanly (answered,
or failed and fully undone) deletes its rows; what stays is an unfinished message, resolved by recovery/resolve.py.

Message row states: ``active`` (being processed by ``owner``), ``unfinished`` (failed, something may be left),
``completed`` (resolved as done: a resend is answered Bv03).

Processes (``journal_owners``): each registers itself with host, pid, the pid's start time and a lease it renews.
Another process is *gone* when it ran on this host and that pid no longer runs (or runs another program started
at another time: a restarted container is pid 1 again), or, on another host, when its lease ran out.

The claim (``messages``) names its holder too (``owner``, migration 12), and every write row carries the operation
and its process: on the hot path no message row is written — a message whose lowest row is a write is ``active``,
held by that row's ``owner`` since its ``created_at``. The row ``seq`` 0 is written only when that changes (the
message is left ``unfinished`` or ``completed``, taken over, or opened again by a resend). Every journal commit is
fenced by the claim — a process whose claim was taken over writes
nothing more (``Fenced``).

Cost: one statement per commit (see ``MessageJournal``), run inline on SQLite or as one round trip on PostgreSQL
(``Store.statement``); a creeerZaak makes one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import re
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from . import context

if TYPE_CHECKING:
    from ..store import Store
    from ..zgw import ZgwClients

Key = tuple[str, str]

_ROW_COLUMNS = "seq, operation, step, method, url, body, undo, state, result, owner, created_at"
SQL = {
    "any": "SELECT 1 FROM journal WHERE zender = :zender AND referentienummer = :ref LIMIT 1",
    "begin": "INSERT INTO journal (zender, referentienummer, seq, operation, state, owner, created_at) "
             "VALUES (:zender, :ref, 0, :operation, 'active', :owner, :now) "
             "ON CONFLICT (zender, referentienummer, seq) DO NOTHING RETURNING seq",
    "intent": "INSERT INTO journal (zender, referentienummer, seq, operation, step, method, url, body, undo, state, "
              "owner, created_at) VALUES (:zender, :ref, :seq, :operation, :step, :method, :url, :body, :undo, "
              "'intent', :owner, :now)",
    "outcome": "UPDATE journal SET state = :state, result = :result "
               "WHERE zender = :zender AND referentienummer = :ref AND seq = :seq",
    "mark": "UPDATE journal SET state = :state WHERE zender = :zender AND referentienummer = :ref AND seq = :seq",
    "finish": "DELETE FROM journal WHERE zender = :zender AND referentienummer = :ref",
    "rows": f"SELECT {_ROW_COLUMNS} FROM journal WHERE zender = :zender AND referentienummer = :ref ORDER BY seq",
    # the message row, or (none written yet) the message's first write row: the message is then active
    "message": "SELECT seq, operation, state, owner, created_at FROM journal "
               "WHERE zender = :zender AND referentienummer = :ref ORDER BY seq LIMIT 1",
    # the message row made from its first write row, when it has none yet (before it changes state or holder)
    "open_message": "INSERT INTO journal (zender, referentienummer, seq, operation, state, owner, created_at) "
                    "SELECT zender, referentienummer, 0, operation, 'active', owner, created_at FROM journal "
                    "WHERE zender = :zender AND referentienummer = :ref AND seq = (SELECT MIN(seq) FROM journal "
                    "WHERE zender = :zender AND referentienummer = :ref) "
                    "ON CONFLICT (zender, referentienummer, seq) DO NOTHING",
    "set_message": "UPDATE journal SET state = :state, owner = :owner "
                   "WHERE zender = :zender AND referentienummer = :ref AND seq = 0",
    "take": "UPDATE journal SET owner = :owner, state = 'active' "
            "WHERE zender = :zender AND referentienummer = :ref AND seq = 0 AND owner = :previous RETURNING seq",
    # the claim (idempotency record) follows the journal's holder: the process it was taken from is fenced off
    "take_claim": "UPDATE messages SET owner = :owner WHERE zender = :zender AND referentienummer = :ref "
                  "AND state = 'pending'",
    "messages": "SELECT zender, referentienummer, seq, operation, state, owner, created_at FROM journal j "
                "WHERE seq = (SELECT MIN(seq) FROM journal k WHERE k.zender = j.zender "
                "AND k.referentienummer = j.referentienummer) ORDER BY created_at",
    "register": "INSERT INTO journal_owners (owner, host, pid, started, lease_until) "
                "VALUES (:owner, :host, :pid, :started, :lease_until) "
                "ON CONFLICT (owner) DO UPDATE SET lease_until = excluded.lease_until",
    "owner": "SELECT host, pid, started, lease_until FROM journal_owners WHERE owner = :owner",
    "unregister": "DELETE FROM journal_owners WHERE owner = :owner",
    "purge_owners": "DELETE FROM journal_owners WHERE lease_until < :before",
    # the journals of messages answered since (their rows are not deleted on the hot path: see Claim)
    "purge_done": "DELETE FROM journal WHERE EXISTS (SELECT 1 FROM messages m WHERE m.zender = journal.zender "
                  "AND m.referentienummer = journal.referentienummer AND m.state = 'done')",
}

#: Write rows whose outcome recovery must still settle.
OPEN_STATES = frozenset({"intent", "done", "unknown"})


@dataclass(frozen=True)
class Row:
    """One write of a message, as journalled."""

    seq: int
    operation: str
    step: str | None
    method: str
    url: str
    body: dict[str, Any] | None
    undo: dict[str, Any] | None
    state: str
    result: dict[str, Any] | None
    created_at: dt.datetime

    @property
    def resource(self) -> str:
        """The last path segment of the URL (``zaken``, ``rollen``, ``lock``, a UUID for PATCH/PUT/DELETE)."""
        return self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]

    @property
    def created(self) -> str | None:
        """The URL of what this write created (from its answer, or found by recovery)."""
        return (self.result or {}).get("url")

    def describe(self) -> str:
        what = self.step or f"{self.method} {self.resource}"
        target = self.created or (self.url if self.method != "POST" else None)
        return f"{what} ({target})" if target else what


@dataclass(frozen=True)
class MessageRow:
    zender: str
    referentienummer: str
    operation: str
    state: str
    owner: str
    created_at: dt.datetime

    @property
    def key(self) -> Key:
        return (self.zender, self.referentienummer)


class Owner:
    """This process, as the journal knows it."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:20]
        self.host = socket.gethostname()[:200]
        self.pid = os.getpid()
        self.started = process_started(self.pid) or dt.datetime.now(dt.UTC).isoformat()


def process_started(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot, from /proc), None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return f"proc:{fields[19]}" if len(fields) > 19 else None


def pid_runs(pid: int) -> bool:
    """Whether the process runs; a zombie (ended, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return True  # no /proc: the signal said it is there
    return state != [b"Z"]


class Busy(Exception):
    """:meth:`Journal.working` waited its time and the message is still in work in this process."""


@dataclass
class _Working:
    lock: asyncio.Lock
    users: int = 0


class _Work:
    """``Journal.working``: the per-message lock of this process. Every claimed message takes it, nearly always
    free: then it is taken without a timer (``asyncio.timeout`` schedules and cancels one, some 10 µs a message)."""

    __slots__ = ("_table", "_key", "_wait", "_held")

    def __init__(self, table: dict[Key, _Working], key: Key, wait: float | None):
        self._table, self._key, self._wait = table, key, wait
        self._held: _Working | None = None

    async def __aenter__(self) -> None:
        held = self._table.get(self._key)
        if held is None:
            held = self._table[self._key] = _Working(asyncio.Lock())
        held.users += 1
        try:
            if held.users > 1:  # another copy holds it or waits for it
                try:
                    async with asyncio.timeout(self._wait):
                        await held.lock.acquire()
                except TimeoutError:
                    raise Busy(f"bericht {self._key[1]!r} is in dit proces nog in behandeling") from None
            else:  # nobody else: acquire() returns without suspending
                await held.lock.acquire()
        except BaseException:
            self._leave(held)
            raise
        self._held = held

    async def __aexit__(self, *exc: object) -> None:
        held, self._held = self._held, None
        assert held is not None
        held.lock.release()
        self._leave(held)

    def _leave(self, held: _Working) -> None:
        held.users -= 1
        if held.users == 0:
            del self._table[self._key]


class Journal:
    """The journal's store code, on the gateway's store."""

    def __init__(self, store: Store, owner: Owner | None = None, *, lease_seconds: float = 30.0):
        self.store = store
        self.owner = owner or Owner()
        self.lease = dt.timedelta(seconds=lease_seconds)
        self._registered = False
        self._working: dict[Key, _Working] = {}

    # --- one piece of work per message in this process ------------------------------------------------------

    def working(self, key: Key, *, wait: float | None = None) -> _Work:
        """This process works on message ``key``: a copy of it in the pipeline, or its recovery (the sweep, the
        outbox's primary check). One at a time: the second waits until the first is done, at most ``wait`` seconds
        (then :class:`Busy`). Across processes the claim's owner and the lease keep them apart; within one
        process they share the owner, so without this the start-up sweep could settle the claim of a resend it was
        recovering at the same moment. (An async context manager: ``async with journal.working(key): ...``.)"""
        return _Work(self._working, key, wait)

    def working_on(self, key: Key) -> bool:
        """Whether this process is working on message ``key`` now (see :meth:`working`)."""
        return key in self._working

    async def _do(self, name: str, rows: bool = False, **params: Any) -> Any:
        return await self.store.statement(f"journal.{name}", SQL[name], params, rows=rows)

    # --- the processes -------------------------------------------------------------------------------------

    async def register(self) -> None:
        """Register this process (again): its lease runs ``lease_seconds`` from now."""
        o = self.owner
        self._registered = True
        await self._do("register", owner=o.id, host=o.host, pid=o.pid, started=o.started,
                       lease_until=_now() + self.lease)

    async def unregister(self) -> None:
        await self._do("unregister", owner=self.owner.id)

    async def purge_owners(self) -> None:
        await self._do("purge_owners", before=_now() - dt.timedelta(days=1))

    async def purge_done(self) -> None:
        """Forget the journals of messages that were answered (the claim stage leaves them for this)."""
        await self._do("purge_done")

    async def is_gone(self, owner: str) -> bool:
        """Whether the process that holds a message is known to be gone (see the module's docstring)."""
        if owner == self.owner.id:
            return False
        row = await self._do("owner", owner=owner)
        if row is None:
            return True
        host, pid, started, lease_until = row
        if host == self.owner.host:
            if not pid_runs(int(pid)):
                return True
            now_started = process_started(int(pid))
            if now_started is not None and started.startswith("proc:"):
                return bool(now_started != started)
        return _as_utc(lease_until) < _now()

    # --- messages ------------------------------------------------------------------------------------------

    async def begin(self, key: Key, operation: str) -> bool:
        """Open the journal of a claimed message; False when it has one already (an unfinished earlier copy)."""
        if not self._registered:  # a gateway without the recovery service (tests, benchmarks) registers on first use
            await self.register()
        if await self._do("any", zender=key[0], ref=key[1]) is not None:  # write rows without a message row too
            return False
        row = await self._do("begin", zender=key[0], ref=key[1], operation=operation, owner=self.owner.id,
                             now=_now())
        return row is not None

    async def finish(self, key: Key) -> None:
        """The message ended cleanly: forget its journal."""
        await self._do("finish", zender=key[0], ref=key[1])

    async def message(self, key: Key) -> MessageRow | None:
        row = await self._do("message", zender=key[0], ref=key[1])
        if row is None:
            return None
        seq, operation, state, owner, created_at = row
        return MessageRow(key[0], key[1], operation, state if seq == 0 else "active", owner, _as_utc(created_at))

    async def set_message(self, key: Key, state: str) -> None:
        await self._do("open_message", zender=key[0], ref=key[1])
        await self._do("set_message", zender=key[0], ref=key[1], state=state, owner=self.owner.id)

    async def take(self, key: Key, previous: str) -> bool:
        """Take a message over from a process that is gone; False if another process was quicker. Its claim is
        taken along: should the process still be alive (a long pause), its next journal write finds the claim no
        longer its own and stops (``Fenced``)."""
        await self._do("open_message", zender=key[0], ref=key[1])
        if await self._do("take", zender=key[0], ref=key[1], owner=self.owner.id, previous=previous) is None:
            return False
        await self._do("take_claim", zender=key[0], ref=key[1], owner=self.owner.id)
        return True

    async def ensure_registered(self) -> None:
        """Register this process once, before it claims anything (a claim names its holder)."""
        if not self._registered:
            await self.register()

    async def messages(self) -> list[MessageRow]:
        rows = await self._do("messages", rows=True)
        return [MessageRow(z, r, op, state if seq == 0 else "active", owner, _as_utc(created))
                for z, r, seq, op, state, owner, created in rows]

    async def rows(self, key: Key) -> list[Row]:
        """The writes of a message, oldest first."""
        rows = await self._do("rows", rows=True, zender=key[0], ref=key[1])
        return [Row(seq, op, step, method, url, _loads(body), _loads(undo), state, _loads(result), _as_utc(created))
                for seq, op, step, method, url, body, undo, state, result, _owner, created in rows if seq > 0]

    async def mark(self, key: Key, seqs: Sequence[int], state: str) -> None:
        for seq in seqs:
            await self._do("mark", zender=key[0], ref=key[1], seq=seq, state=state)

    async def settle(self, key: Key, seq: int, state: str, result: dict[str, Any] | None) -> None:
        await self._do("outcome", zender=key[0], ref=key[1], seq=seq, state=state,
                       result=json.dumps(result) if result is not None else None)

    def for_message(self, key: Key, operation: str, zgw: ZgwClients | None = None, *,
                    opened: bool = True) -> MessageJournal:
        """``opened``: the message row is there already (else the write rows stand for it: see the module)."""
        return MessageJournal(self, key, operation, zgw, opened=opened)


class Fenced(Exception):
    """This process's hold on a message was taken over (its lease ran out while it was paused, or it was taken for
    gone): it must not write anything more for that message."""

    def __init__(self, key: Key):
        super().__init__(f"message {key[1]!r} of {key[0]!r} was taken over by recovery")
        self.key = key


class MessageJournal:
    """The journal of one message while it is processed: the ZGW client's ``WriteJournal``.

    One commit per write, before it is sent: the intents of the writes a flow starts together (``UndoLog.steps``)
    share it, and the outcome ``done`` of the previous write rides along (until then it is only in memory: after a
    crash that write is ``intent`` in the journal, and recovery looks it up in ZGW). Other outcomes (``failed``,
    ``unknown``) are committed at once. ``flush`` commits what is waiting, before anything reads the journal."""

    def __init__(self, journal: Journal, key: Key, operation: str, zgw: ZgwClients | None = None, *,
                 opened: bool = True):
        self.journal = journal
        self.opened = opened  # the message row is in the journal (else its write rows stand for it)
        self.fenced = False  # the claim was taken over: nothing more is written
        self.zgw = zgw
        self.key = key
        self.operation = operation
        self.seq = 0
        self.writes = 0
        self._pending: list[dict[str, Any]] = []
        self._batch: asyncio.Task[None] | None = None
        self._urgent: set[int] = set()  # writes whose outcome is committed at once
        self._zaken: set[int] = set()  # the POST zaken of this message
        self._created_zaken: set[str] = set()  # the zaken it created (their parts need no journal rows)
        self._zaak_fields: list[bytes] = []  # the same as the client writes them in a part's body
        self._planned: list[tuple[str, str, int]] = []  # (method, path, seq) of planned writes, in sending order

    async def plan(self, method: str, url: str, writes: list[tuple[str, dict[str, Any]]]) -> None:
        """Journal the intents of writes the flow will send one by one, state ``planned``, in one commit (context.py,
        ``plan``). Each gets its intent as usual when it is sent (``before`` takes the planned row's seq and makes it
        ``intent``); one never sent stays ``planned``, which recovery knows was not sent. Parts of a zaak this
        message created need no rows (the zaak's DELETE takes them along)."""
        if len(writes) < 2:
            return
        if any(str(body.get("zaak")) in self._created_zaken for _, body in writes):
            return
        path = httpx.URL(url).path
        for name, body in writes:
            self.seq += 1
            self._pending.append(dict(
                zender=self.key[0], referentienummer=self.key[1], seq=self.seq, operation=self.operation,
                step=name[:200], method=method, url=url[:2000],
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), undo=None, state="planned",
                owner=self.journal.owner.id))
            self._planned.append((method, path, self.seq))
        await self._commit_now()

    async def before(self, method: str, url: str | httpx.URL, content: bytes | None) -> int | None:
        """Journal the intent of a write; its seq, or None when it needs no row. ``url`` may be httpx's URL: it is
        made a string only for a write that gets a row (that costs some µs per call)."""
        if isinstance(url, str):
            path = url.split("?", 1)[0]
        else:
            path = url.path
        resource = path.rstrip("/").rpartition("/")[2]
        if method == "POST" and resource in CASCADED and content and self._created_zaken:
            # part of a zaak this message created: the zaak's DELETE takes it along (the client's compact JSON is
            # looked for as bytes first: a substring test, no decoding)
            if any(field in content for field in self._zaak_fields):
                return None
            match = _ZAAK.search(content[:4096])
            if match and match.group(1).decode() in self._created_zaken:
                return None
        planned = bool(self._planned) and self._planned[0][0] == method \
            and self._planned[0][1] == (url.path if isinstance(url, httpx.URL) else httpx.URL(url).path)
        url = str(url)
        if planned:
            seq = self._planned.pop(0)[2]  # its row is there (planned): the intent below only sets its state
        else:
            self.seq += 1
            seq = self.seq
        if method == "POST" and resource == "zaken" and not (content and b'"identificatie"' in content):
            self._urgent.add(seq)  # ZGW numbers this zaak: its URL is only in the answer, which must be kept
        step = context.STEP.get()
        plan = step.plan if step is not None and method in ("PATCH", "PUT", "DELETE") else None
        self._pending.append(dict(
            zender=self.key[0], referentienummer=self.key[1], seq=seq, operation=self.operation,
            step=step.name[:200] if step is not None else None, method=method, url=url[:2000],
            body=_intent_body(content), undo=json.dumps(plan) if plan is not None else None, state="intent",
            owner=self.journal.owner.id))
        if method == "POST" and resource == "zaken":
            self._zaken.add(seq)
        if step is not None and step.concurrent:
            await self._commit()  # with the intents of the steps started together
        else:
            await self._commit_now()
        self.writes += 1
        if step is not None:
            step.rows.append(seq)
        return seq

    async def after(self, seq: int, state: str, result: bytes | None) -> None:
        # the answer is read for the journal (``_result``) only when its row is committed: most outcomes ride along
        # with a later intent or are never committed (the message ends cleanly), so most answers are never read
        self._pending.append(dict(zender=self.key[0], referentienummer=self.key[1], seq=seq,
                                  operation=self.operation, state=state, answer=result if state == "done" else None,
                                  owner=self.journal.owner.id))
        if seq in self._urgent or state != "done":
            await self._commit()
        if state == "done" and result and seq in self._zaken:
            match = _FIELD["url"].search(result[:8192])
            if match:
                self._created_zaken.add(match.group(1).decode("utf-8", "replace"))
                self._zaak_fields.append(b'"zaak":"' + match.group(1) + b'"')

    async def flush(self) -> None:
        """Commit the outcomes still waiting."""
        if self._pending:
            await self._commit()

    async def _commit(self) -> None:
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_task(self._commit_soon())
        await asyncio.shield(self._batch)

    async def _commit_soon(self) -> None:
        await asyncio.sleep(0)  # the other writes started in this turn of the event loop queue their intents
        self._batch = None
        await self._commit_now()

    async def _commit_now(self) -> None:
        """One statement: the waiting rows, written only while this process still holds the message's claim (the
        fencing check is part of the statement). A claim taken over raises ``Fenced``: the write is not sent."""
        batch, self._pending = self._pending, []
        if self.fenced:
            raise Fenced(self.key)
        if not batch:
            return
        store = self.journal.store
        changed = None
        if store.dialect == "sqlite":  # on a file: positional parameters, the rows written counted, no RETURNING
            changed = await store.sqlite_changes("journal.commit",
                                                 *_upsert_sqlite(batch, self.key, self.journal.owner.id))
        if changed is None:  # PostgreSQL, an in-memory SQLite
            sql, params = _upsert(batch, store.dialect)
            params["fence_zender"], params["fence_ref"], params["fence_owner"] = (*self.key, self.journal.owner.id)
            changed = len(await store.statement("journal.commit", sql, params, rows=True))
        if not changed:
            self.fenced = True
            raise Fenced(self.key)


_COLUMNS = ("zender", "referentienummer", "seq", "operation", "step", "method", "url", "body", "undo", "state",
            "result", "owner", "created_at")


#: PostgreSQL types the values of a VALUES list in a SELECT as text: these columns need a cast.
_PG_CASTS = {"seq": "integer", "created_at": "timestamptz"}


@functools.lru_cache(maxsize=64)
def _upsert_sql(count: int, dialect: str) -> str:
    def value(column: str, n: int) -> str:
        cast = _PG_CASTS.get(column) if dialect == "postgresql" else None
        return f"CAST(:{column}{n} AS {cast})" if cast else f":{column}{n}"

    rows = ", ".join("(" + ", ".join(value(column, n) for column in _COLUMNS) + ")" for n in range(count))
    return (f"INSERT INTO journal ({', '.join(_COLUMNS)}) SELECT * FROM (VALUES {rows}) AS batch "
            "WHERE EXISTS (SELECT 1 FROM messages WHERE zender = :fence_zender AND referentienummer = :fence_ref "
            "AND owner = :fence_owner) "
            "ON CONFLICT (zender, referentienummer, seq) DO UPDATE SET state = excluded.state, "
            "result = excluded.result RETURNING seq")


def _upsert(batch: list[dict[str, Any]], dialect: str) -> tuple[str, dict[str, Any]]:
    """The waiting intents (new rows) and outcomes (state and result of existing rows) as one statement: one
    commit, without BEGIN/COMMIT round trips, and only while the claim is this process's (the fence). (On SQLite
    the time goes in as the text SQLAlchemy would store.)"""
    params: dict[str, Any] = {}
    now: Any = _now()
    if dialect == "sqlite":
        now = _sqlite_now()
    for names, row in zip(_param_names(len(batch)), batch, strict=True):
        if "answer" in row:
            row["result"] = _result(row.pop("answer"))
        row["created_at"] = now
        params.update({name: row.get(column) for column, name in names})
    return _upsert_sql(len(batch), dialect), params


@functools.lru_cache(maxsize=64)
def _upsert_sqlite_sql(count: int) -> str:
    """``_upsert_sql`` for a SQLite file: positional parameters, the fence's three last; without RETURNING (the
    caller counts the rows written). One row (the usual batch) as a plain SELECT, no VALUES list."""
    row = ", ".join("?" for _ in _COLUMNS)
    rows = f"SELECT {row}" if count == 1 else \
        "SELECT * FROM (VALUES " + ", ".join(f"({row})" for _ in range(count)) + ") AS batch"
    return (f"INSERT INTO journal ({', '.join(_COLUMNS)}) {rows} "
            "WHERE EXISTS (SELECT 1 FROM messages WHERE zender = ? AND referentienummer = ? AND owner = ?) "
            "ON CONFLICT (zender, referentienummer, seq) DO UPDATE SET state = excluded.state, "
            "result = excluded.result")


def _upsert_sqlite(batch: list[dict[str, Any]], key: Key, owner: str) -> tuple[str, list[Any]]:
    """``_upsert`` for ``Store.sqlite_changes``: the SQL and its positional parameters."""
    now = _sqlite_now()
    params: list[Any] = []
    for row in batch:
        if "answer" in row:
            row["result"] = _result(row.pop("answer"))
        row["created_at"] = now
        params.extend(row.get(column) for column in _COLUMNS)
    params.extend((*key, owner))
    return _upsert_sqlite_sql(len(batch)), params


@functools.lru_cache(maxsize=64)
def _param_names(count: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Per row of a batch of ``count``: (column, parameter name) of each column, created_at last."""
    return tuple(tuple((column, f"{column}{n}") for column in _COLUMNS) for n in range(count))


# --- bodies ---------------------------------------------------------------------------------------------------

#: Writes that belong to a zaak and go with its DELETE: not journalled when the message created that zaak.
CASCADED = frozenset({"rollen", "statussen", "zaakobjecten", "resultaten", "zaakeigenschappen"})
_ZAAK = re.compile(rb'"zaak"\s*:\s*"([^"\\]*)"')
_INHOUD = re.compile(rb'"inhoud"\s*:\s*"')


def _intent_body(content: bytes | None) -> str | None:
    """The request body as journalled: JSON without document content (``inhoud`` is cut out unread)."""
    if not content:
        return None
    match = _INHOUD.search(content)
    if match:
        end = content.find(b'"', match.end())
        if end > 0:
            content = content[:match.start()] + b'"inhoud":null' + content[end + 1:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.startswith("{") else None


_FIELD = {name: re.compile(rb'"' + name.encode() + rb'"\s*:\s*"([^"\\]*)"') for name in ("url", "lock",
                                                                                          "identificatie")}


def _result(content: bytes | None) -> str | None:
    """What recovery needs of an answer: the created object's URL (a ZGW object's first field), its lock and
    identificatie. Read with a pattern, not a JSON parse: it runs for every write."""
    if not content:
        return None
    head = content[:8192]
    found = {}
    for name, pattern in _FIELD.items():
        match = pattern.search(head)
        if match:
            found[name] = match.group(1).decode("utf-8", "replace")
    return json.dumps(found) if found else None


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_now() -> str:
    """Now in UTC as the text SQLAlchemy stores a DateTime in SQLite (``%Y-%m-%d %H:%M:%S.%f``; isoformat writes
    the same a few times faster than strftime)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _as_utc(value: dt.datetime | str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
