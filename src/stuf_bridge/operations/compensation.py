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
from typing import TYPE_CHECKING, Any, Self, TypeVar

import structlog

from .. import trace
from ..errors import StepFailed

if TYPE_CHECKING:
    from ..zgw import ZgwApiClient

log = structlog.get_logger(__name__)
T = TypeVar("T")


Undo = Callable[[Any], Awaitable[Any]]  # gets the step's result, undoes what it created


@dataclass
class UndoLog:
    done: list[str] = field(default_factory=list)
    _undo: list[tuple[str, Callable[[], Awaitable[Any]]]] = field(default_factory=list)
    _current: str | None = None

    async def step(self, name: str, call: Awaitable[T], *, undo: Callable[[T], Awaitable[Any]] | None = None) -> T:
        """Run one named call; its failure is attributed to this step. ``undo(result)`` runs if a later step fails."""
        self._current = name
        result = await call
        self._succeeded(name, result, undo)
        return result

    async def steps(self, calls: dict[str, tuple[Awaitable[Any], Undo | None]]) -> list[Any]:
        """Independent named calls, concurrently. Every call is awaited even when one fails, so that each success
        registers its undo before the log unwinds; the first failure (in the given order) is raised."""
        names = list(calls)
        results = await asyncio.gather(*(call for call, _ in calls.values()), return_exceptions=True)
        failure: tuple[str, BaseException] | None = None
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or (name, result)
            else:
                self._succeeded(name, result, calls[name][1])
        if failure is not None:
            self._current = failure[0]
            raise failure[1]
        self._current = None
        return results

    def _succeeded(self, name: str, result: Any, undo: Undo | None) -> None:
        self.done.append(name)
        self._current = None
        if undo is not None:
            self._undo.append((f"ongedaan: {name}", lambda: undo(result)))

    async def rollback(self) -> tuple[list[str], list[str]]:
        undone, not_undone = [], []
        message = trace.current()  # the steps go into the message's trace (and the compensation metrics)
        for name, undo in reversed(self._undo):
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
        self._undo.clear()
        return undone, not_undone

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            return
        undone, not_undone = await asyncio.shield(self.rollback())
        if isinstance(exc, Exception) and not isinstance(exc, StepFailed):
            raise StepFailed(self._current or "verwerking", exc, undone, not_undone) from exc


# --- the usual undo actions ---------------------------------------------------------------------------------


def delete_created(client: ZgwApiClient) -> Undo:
    """The undo of a POST: DELETE the object the step created (its result)."""

    async def delete(created: Any) -> None:
        await client.delete(created["url"])

    return delete


def patch_back(client: ZgwApiClient, url: str, before: dict[str, Any]) -> Undo:
    """The undo of a PATCH: PATCH the fields back to ``before``."""

    async def patch(_: Any) -> Any:
        return await client.patch(url, before)

    return patch


def put_back(client: ZgwApiClient, url: str, before: dict[str, Any]) -> Undo:
    """The undo of a PUT: PUT the earlier body back."""

    async def put(_: Any) -> Any:
        return await client.update(url, before)

    return put


def post_back(client: ZgwApiClient, resource: str, body: dict[str, Any]) -> Undo:
    """The undo of a DELETE: POST the removed object back (it gets a new url)."""

    async def post(_: Any) -> Any:
        return await client.create(resource, body)

    return post
