"""One id per message: in every log line written while the message is handled, in every call made for it (the
``X-Request-ID`` header towards ZGW and legacy, so their logs can be matched to the message), and in the answer's
``X-Request-ID`` header. A client that sends a sensible ``X-Request-ID`` of its own gets that one used throughout.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

__all__ = ["HEADER", "correlated", "current", "new_id"]

HEADER = "X-Request-ID"
_CURRENT: ContextVar[str | None] = ContextVar("stuf_bridge_correlation_id", default=None)
_SENSIBLE = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # no spaces, no control characters, nothing a log could misread


def new_id(incoming: str | None = None) -> str:
    """The client's own id when it is sensible, else a new one."""
    if incoming and _SENSIBLE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def current() -> str | None:
    """The id of the message being handled in this task (and the tasks it starts), if any."""
    return _CURRENT.get()


@contextmanager
def correlated(correlation_id: str) -> Iterator[None]:
    """Within this block, log lines carry ``correlation_id`` and outgoing calls the ``X-Request-ID`` header."""
    token = _CURRENT.set(correlation_id)
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        try:
            yield
        finally:
            _CURRENT.reset(token)
