"""The end of the shutdown grace period, as the message pipeline sees it.

On SIGTERM the server stops accepting and waits up to ``shutdown_grace_seconds`` for the messages in flight. When the
period ends with messages still running, the server (``cli._Server``) marks the grace period as ended and cancels
their tasks. The *answer* stage (``pipeline/answer.py``) then answers each with a StUF fault saying that the gateway is
stopping and that a resend is safe (:class:`~stuf_bridge.errors.GatewayStopping`), rather than letting the cancellation
reach uvicorn, which would answer a bare 500. What the message had done is in the recovery journal (the *claim* stage
marks it unfinished and releases its claim), which resolves it at the next start or on the resend.

A cancellation at any other time (a test's timeout, a client's task) is not a stop and passes through unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

CANCEL_MESSAGE = "stuf-bridge: the shutdown grace period ended"


class _State:
    grace_ended = False


def grace_ended() -> bool:
    """Whether this process is stopping and its grace period has ended (its messages in flight are cancelled)."""
    return _State.grace_ended


def reset() -> None:
    """A server starting in this process: no stop under way (tests may start several servers, one after another)."""
    _State.grace_ended = False


def end_grace(tasks: Iterable[asyncio.Task[None]]) -> int:
    """Mark the grace period as ended and cancel ``tasks`` (the requests still running); how many were cancelled."""
    _State.grace_ended = True
    cancelled = 0
    for task in tasks:
        if not task.done():
            task.cancel(msg=CANCEL_MESSAGE)
            cancelled += 1
    return cancelled
