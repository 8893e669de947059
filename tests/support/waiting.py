"""Waiting in a test for something another process does (a gateway, a worker, a second stuf-bridge)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(check: Callable[[], bool], timeout: float = 60.0, interval: float = 0.1) -> None:
    """Call ``check`` every ``interval`` seconds until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(interval)
