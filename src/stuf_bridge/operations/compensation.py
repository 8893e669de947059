"""Nothing half-done: a flow records what it created, and on failure undoes it in reverse order.

ZGW has no transactions across calls, while ZDS demands all-or-nothing (ZDS 1.2 §4 "Foutverwerking"). A flow
therefore runs its calls as named steps inside an ``UndoLog``::

    async with UndoLog() as undo:
        zaak = await undo.step("POST zaken", zgw.zaken.create("zaken", body),
                               undo=lambda zaak: zgw.zaken.delete(zaak["url"]))
        await undo.steps({
            "POST rollen (initiator)": (zgw.zaken.create("rollen", rol), delete_url),
            "POST zaakobjecten": (zgw.zaken.create("zaakobjecten", adres), delete_url),
        })

When a step fails, the undo actions registered so far run newest first, and ``StepFailed`` is raised naming the
step, the backend's reason, and whether the undo was complete. The gateway turns it into a StUF fault; the client
can simply send the message again. A flow's log is ``MessageContext.undo``.

The usual undo actions against a ZGW API are here too (``delete_created``, ``patch_back``, ``put_back``,
``post_back``), so that no flow writes its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import structlog

from .. import trace
from ..errors import StepFailed
from ..recovery.context import COMPENSATING, JOURNAL, STEP, StepRecord
from ..recovery.journal import MessageJournal
from ..store.errors import StoreError
from ..zgw.documents import patch_under_own_lock

if TYPE_CHECKING:
    from ..zgw import ZgwApiClient

log = structlog.get_logger(__name__)
T = TypeVar("T")


Undo = Callable[[Any], Awaitable[Any]]  # gets the step's result, undoes what it created


@dataclass
class UndoLog:
    done: list[str] = field(default_factory=list)
    _undo: list[tuple[str, Callable[[], Awaitable[Any]], list[int]]] = field(default_factory=list)
    _current: str | None = None

    async def step(self, name: str, call: Awaitable[T], *, undo: Callable[[T], Awaitable[Any]] | None = None) -> T:
        """Run one named call; its failure is attributed to this step. ``undo(result)`` runs if a later step fails."""
        self._current = name
        record = StepRecord(name, getattr(undo, "plan", None))
        token = STEP.set(record)
        try:
            result = await call
        except Exception as exc:
            found = await _written_after_all(exc, record.rows)
            if found is None:
                raise
            result = cast(T, found)  # a status whose answer was lost, found in ZGW: the flow goes on after it
        finally:
            STEP.reset(token)
        self._succeeded(name, result, undo, record.rows)
        return result

    async def steps(self, calls: dict[str, tuple[Awaitable[Any], Undo | None]]) -> list[Any]:
        """Independent named calls, concurrently. Every call is awaited even when one fails, so that each success
        registers its undo before the log unwinds; the first failure (in the given order) is raised."""
        names = list(calls)
        records = {name: StepRecord(name, getattr(undo, "plan", None), concurrent=True)
                   for name, (_, undo) in calls.items()}
        results = await asyncio.gather(*(_in_step(records[name], call) for name, (call, _) in calls.items()),
                                       return_exceptions=True)
        failure: tuple[str, BaseException] | None = None
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or (name, result)
            else:
                self._succeeded(name, result, calls[name][1], records[name].rows)
        if failure is not None:
            self._current = failure[0]
            raise failure[1]
        self._current = None
        return results

    def _succeeded(self, name: str, result: Any, undo: Undo | None, rows: list[int] | None = None) -> None:
        self.done.append(name)
        self._current = None
        if undo is not None:
            self._undo.append((f"ongedaan: {name}", lambda: undo(result), list(rows or ())))

    async def rollback(self) -> tuple[list[str], list[str]]:
        """Undo the registered steps, newest first. With a step journal (recovery/journal.py) each undone step's
        writes are marked ``undone`` there, so that recovery does not undo them again; the undo calls themselves
        are not journalled as new writes of the message."""
        undone, not_undone = [], []
        message = trace.current()  # the steps go into the message's trace (and the compensation metrics)
        journal = JOURNAL.get()
        token = COMPENSATING.set(True)
        try:
            if isinstance(journal, MessageJournal):
                try:
                    await journal.flush()  # the outcomes waiting first: the marks below must come after them
                except StoreError as exc:
                    log.warning("journal_flush_failed", error=str(exc))
            for name, undo, rows in reversed(self._undo):
                try:
                    await undo()
                    undone.append(name)
                    if message is not None:
                        message.note_compensation(name)
                except Exception as exc:  # noqa: BLE001 - keep going: undo as much as possible, say what is left
                    log.error("compensation_failed", action=name, error=str(exc))
                    not_undone.append(name)
                    if message is not None:
                        message.note_compensation(name, ok=False, error=str(exc))
                    continue
                if rows and isinstance(journal, MessageJournal):
                    try:
                        await journal.journal.mark(journal.key, rows, "undone")
                    except StoreError as exc:  # recovery then finds the object gone (404): nothing is done twice
                        log.warning("journal_mark_failed", action=name, error=str(exc))
        finally:
            COMPENSATING.reset(token)
        self._undo.clear()
        return undone, not_undone

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            return
        journal = JOURNAL.get()
        if isinstance(journal, MessageJournal) and journal.fenced:
            return  # another process took the message over (recovery/journal.py, Fenced): the undo is its to do
        if isinstance(exc, Exception) and await _completed_after_all():  # nothing to undo: the message is done
            raise StepFailed(self._current or "verwerking", exc, [], []) from exc
        undone, not_undone = await asyncio.shield(self.rollback())
        if isinstance(exc, Exception) and not isinstance(exc, StepFailed):
            raise StepFailed(self._current or "verwerking", exc, undone, not_undone) from exc


async def _completed_after_all() -> bool:
    """With a step journal: whether the failing write was a status that happened after all (its answer was lost),
    which by recovery's rule makes the message complete (recovery/resolve.py) — then nothing is undone."""
    journal = JOURNAL.get()
    if not isinstance(journal, MessageJournal) or journal.zgw is None:
        return False
    from ..recovery.resolve import completed_after_all
    from ..zgw.errors import ZgwError

    try:
        await journal.flush()
        return await completed_after_all(journal.zgw, journal.journal, journal.key)
    except (ZgwError, StoreError) as exc:
        log.warning("journal_lookup_failed", error=str(exc))
        return False


async def _written_after_all(exc: Exception, rows: list[int]) -> dict[str, Any] | None:
    """With a step journal: a status write whose outcome is unknown (its answer lost) that ZGW has after all."""
    from ..zgw.errors import ZgwError

    journal = JOURNAL.get()
    if not rows or not isinstance(exc, ZgwError) or not isinstance(journal, MessageJournal) or journal.zgw is None:
        return None
    from ..recovery.resolve import status_written_after_all

    try:
        await journal.flush()
        return await status_written_after_all(journal.zgw, journal.journal, journal.key, rows)
    except (ZgwError, StoreError) as error:
        log.warning("journal_lookup_failed", error=str(error))
        return None


async def _in_step(record: StepRecord, call: Awaitable[T]) -> T:
    """``call`` as part of the step ``record`` (its own task under ``steps``: the journal learns its rows)."""
    STEP.set(record)
    return await call


# --- the usual undo actions ---------------------------------------------------------------------------------
# Each carries its ``plan`` where it is known before the call (the earlier values, the removed object's body), so
# that the step journal has it even when the process dies before the undo could run.


@dataclass(frozen=True)
class _Planned:
    method: str
    client: ZgwApiClient
    target: str
    body: dict[str, Any]
    own_lock: bool = False  # a document's PATCH under a lock of the gateway's own (lock, PATCH, unlock)

    @property
    def plan(self) -> dict[str, Any]:
        plan = {"method": self.method, "url": self.client.url(self.target), "body": self.body}
        return {**plan, "lock": True} if self.own_lock else plan

    async def __call__(self, _: Any) -> Any:
        if self.own_lock:
            return await patch_under_own_lock(self.client, self.client.url(self.target), self.body)
        if self.method == "PATCH":
            return await self.client.patch(self.target, self.body)
        if self.method == "PUT":
            return await self.client.update(self.target, self.body)
        return await self.client.create(self.target, self.body)


def delete_created(client: ZgwApiClient) -> Undo:
    """The undo of a POST: DELETE the object the step created (its result)."""

    async def delete(created: Any) -> None:
        await client.delete(created["url"])

    return delete


def patch_back(client: ZgwApiClient, url: str, before: dict[str, Any]) -> Undo:
    """The undo of a PATCH: PATCH the fields back to ``before``."""
    return _Planned("PATCH", client, url, before)


def patch_document_back(client: ZgwApiClient, url: str, before: dict[str, Any]) -> Undo:
    """The undo of a PATCH of a document that was not checked out, made under a lock of the gateway's own: the same
    again with the fields back to ``before`` (recovery after a crash releases a lock left behind first)."""
    return _Planned("PATCH", client, url, before, own_lock=True)


def put_back(client: ZgwApiClient, url: str, before: dict[str, Any]) -> Undo:
    """The undo of a PUT: PUT the earlier body back."""
    return _Planned("PUT", client, url, before)


def post_back(client: ZgwApiClient, resource: str, body: dict[str, Any]) -> Undo:
    """The undo of a DELETE: POST the removed object back (it gets a new url)."""
    return _Planned("POST", client, resource, body)
