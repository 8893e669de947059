"""The seam between the ZGW client and the step journal: which message's journal a write belongs to, and which
step of its undo log it is part of. Kept free of imports so that the client can use it (zgw/client.py)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx


class WriteJournal(Protocol):
    """What the ZGW client tells the journal about one write (POST, PUT, PATCH, DELETE)."""

    async def before(self, method: str, url: str | httpx.URL, content: bytes | None) -> int | None:
        """Record the intent; returns the step's number (None: not journalled)."""

    async def after(self, seq: int, state: str, result: bytes | None) -> None:
        """Record the outcome: ``done`` (with the answer body), ``failed`` (the write did not happen) or
        ``unknown`` (the request may have been processed: a timeout, a dropped connection, a 502/504)."""


@dataclass
class StepRecord:
    """The undo-log step a write is made for: its name, the undo plan known before the call (the earlier values of
    a PATCH/PUT, the body of an object a DELETE removes) and the journal rows its writes got."""

    name: str
    plan: dict[str, Any] | None = None
    rows: list[int] = field(default_factory=list)
    concurrent: bool = False  # one of several steps started together (their intents share a commit)


#: The journal of the message being processed (set by the claim stage for a claimed message).
JOURNAL: ContextVar[WriteJournal | None] = ContextVar("stuf_bridge_journal", default=None)
#: The undo-log step being run (set by ``UndoLog.step``/``steps`` around each call).
STEP: ContextVar[StepRecord | None] = ContextVar("stuf_bridge_journal_step", default=None)
#: The JSON body of a write whose request streams (a document with its content): what the journal records of it.
BODY: ContextVar[dict[str, Any] | None] = ContextVar("stuf_bridge_journal_body", default=None)
#: True while compensating: undo calls are not new steps of the message.
COMPENSATING: ContextVar[bool] = ContextVar("stuf_bridge_compensating", default=False)


async def plan(method: str, url: str, writes: list[tuple[str, dict[str, Any]]]) -> None:
    """Journal up front the intents of writes a flow will send one after the other (``writes``: step name and
    body each), as ``planned``: recovery then knows all of them, also when the process dies between two of them
    (an updateZaak's statussen: a status written and the next not yet journalled must not count the message
    complete with that status missing). No-op without a journal or a journal that does not plan."""
    journal = current()
    planner = getattr(journal, "plan", None)
    if planner is not None:
        await planner(method, url, writes)


def current() -> WriteJournal | None:
    """The journal a write made now belongs to, or None (no claimed message, or an undo call)."""
    journal = JOURNAL.get()
    if journal is None or COMPENSATING.get():
        return None
    return journal
