"""The scheduled reconcile inside the gateway (``reconcile.scheduled``, off by default; SIDE-BY-SIDE R7): every
``reconcile.interval_seconds`` the gateway compares the zaken of each of ``reconcile.zaaktypen`` on both sides, as
``stuf-bridge reconcile`` does (``reconcile.py``, open zaken only unless ``reconcile.open_only`` is false), and
stores the zaken that are not in sync as findings (source ``scheduled``, ``reconcile_findings``), logs a summary per
zaaktype (``reconcile_scheduled``; ``reconcile_scheduled_differences`` at warning level naming the zaken) and counts
them in ``stuf_bridge_reconcile_differences_total{source="scheduled"}``. It reports; it never repairs (that stays a
deliberate ``stuf-bridge reconcile --repair``).

Several gateway processes on one store run each zaaktype's comparison once per interval: a run takes the zaaktype's
row in ``migration_locks`` (``reconcile:<zaaktype>``) for most of the interval and a process that finds it taken
leaves that zaaktype to the holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable

import structlog

from ..legacy.errors import LegacyError
from ..store import StoreError
from ..zgw import CatalogueLookupError, ZgwError
from .config import ReconcileSettings
from .copy import CopyFailed
from .reconcile import IN_SYNC, Reconciler
from .store import Finding, MigrationStore
from .wiring import Runtime

log = structlog.get_logger(__name__)

SOURCE = "scheduled"
_ERRORS = (StoreError, LegacyError, ZgwError, CatalogueLookupError, CopyFailed, OSError)


class ScheduledReconcile:
    """``start``/``stop`` with the app; ``run_once`` is one round over the zaaktypen (for tests and tools)."""

    def __init__(self, rt: Runtime, settings: ReconcileSettings,
                 on_differences: Callable[[int], None] | None = None):
        self.rt = rt
        self.settings = settings
        self.on_differences = on_differences
        self.ledger = MigrationStore(rt.store)
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="stuf-bridge-reconcile")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        log.info("reconcile_scheduled_started", zaaktypen=self.settings.zaaktypen,
                 interval_seconds=self.settings.interval_seconds)
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.interval_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.run_once()
            except Exception:  # a bug must not end the schedule
                log.exception("reconcile_scheduled_error")

    async def run_once(self) -> list[Finding]:
        """Compare each zaaktype this process holds the turn for; the findings stored."""
        run = uuid.uuid4().hex
        found: list[Finding] = []
        hold = max(self.settings.interval_seconds * 0.9, 1.0)
        for zaaktype in self.settings.zaaktypen:
            if not await self.ledger.try_lock(f"reconcile:{zaaktype}", self.owner, hold):
                log.info("reconcile_scheduled_skipped", zaaktype=zaaktype, reason="another process has this turn")
                continue
            try:
                reconciler = Reconciler(self.rt, sizes=self.settings.sizes)
                results = await reconciler.reconcile(zaaktype, open_only=self.settings.open_only)
            except _ERRORS as exc:
                log.warning("reconcile_scheduled_failed", zaaktype=zaaktype, error=str(exc))
                continue
            differing = [Finding(SOURCE, run, r.state, r.identificatie, zaaktype, r.fields)
                         for r in results if r.state != IN_SYNC]
            await self.ledger.record_findings(differing)
            counts: dict[str, int] = {}
            for result in results:
                counts[result.state] = counts.get(result.state, 0) + 1
            log.info("reconcile_scheduled", zaaktype=zaaktype, zaken=len(results), differences=len(differing),
                     states=counts)
            if differing:
                log.warning("reconcile_scheduled_differences", zaaktype=zaaktype, count=len(differing),
                            zaken=[f.line() for f in differing[:20]])
                if self.on_differences is not None:
                    self.on_differences(len(differing))
            found.extend(differing)
        return found
