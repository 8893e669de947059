"""The trace of the message being handled, as a context variable: what the clients and the flows add to it.

This module imports nothing of the project, so that the ZGW and legacy clients (which know no StUF) and any flow can
note what they do without depending on the trace store. The small API for other parts of the gateway:

    from stuf_bridge import trace
    t = trace.current()            # None when the message is not traced (tracing off, or outside a message)
    if t is not None:
        t.note_compensation("delete zaak", url, ok=True)
        t.note("any remark worth seeing in the trace")

Outgoing calls are noted by the clients themselves (``note_call``); nobody else needs to.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallNote", "MessageTrace", "current", "tracing"]


@dataclass
class CallNote:
    """One outgoing HTTP call. Bodies are the bytes as sent and received (``None``: streamed, not kept); they are
    masked, cut and hashed when the trace is written, off the message's path."""

    kind: str  # zgw | legacy
    api: str  # zaken, documenten, ... or the legacy service
    method: str
    url: str
    status: int | None
    started: float  # perf_counter at the start
    ms: float
    error: str | None = None
    request_body: bytes | None = None
    request_type: str | None = None
    response_body: bytes | None = None
    response_type: str | None = None
    streamed: str | None = None  # "request", "response" or "both": bodies that went by as streams (sizes only)


@dataclass
class MessageTrace:
    """What is collected about one message while it is handled."""

    correlation_id: str
    started: float = field(default_factory=time.perf_counter)
    calls: list[CallNote] = field(default_factory=list)
    compensations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note_call(self, call: CallNote) -> None:
        self.calls.append(call)

    def note_compensation(self, step: str, target: str | None = None, *, ok: bool = True,
                          error: str | None = None) -> None:
        """A compensation step that ran (undoing what a failed message had done): what, on which resource, and
        whether it succeeded."""
        self.compensations.append({"at_ms": round((time.perf_counter() - self.started) * 1000, 3), "step": step,
                                   "target": target, "ok": ok, "error": error})

    def note(self, text: str) -> None:
        """A free remark, shown with the message's warnings."""
        self.notes.append(text)


_CURRENT: ContextVar[MessageTrace | None] = ContextVar("stuf_bridge_trace", default=None)


def current() -> MessageTrace | None:
    """The trace of the message handled in this task (and the tasks it starts), or None when it is not traced."""
    return _CURRENT.get()


@contextmanager
def tracing(trace: MessageTrace | None) -> Iterator[MessageTrace | None]:
    """Within this block, ``current()`` is ``trace``."""
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)
