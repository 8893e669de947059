"""``stuf-bridge migrate --zaken FILE|-``: the whole archive into ZGW, zaak by zaak, with the back-fill's copy.

* The list is one identificatie a line (blank lines and ``#`` comments skipped, repeats once); ``-`` reads stdin.
* **Resumable**: the ledger says what is done — a zaak ``done`` or ``present`` is skipped, one ``failed`` is tried
  again, one whose documents are pending gets them, one a killed run left ``copying`` is cleared and copied anew.
  Related zaken the copied ones name (and ZGW lacks) are added to the run.
* ``--concurrency N`` zaken at a time (each zaak under its lock; a document at a time within a zaak).
* **Progress**: on a terminal a progress bar (zaken done/total, failures, documents, MB, rate, ETA; ``rich``); when
  not on a terminal one plain line every ``--progress-seconds`` (and at the end).
* **Ctrl-C** stops cleanly: no new zaak is started, those under way finish (a second Ctrl-C cancels them: each is
  undone, all or nothing), the report is written, and the exit status is 130.
* **Report** (``--report FILE``, CSV or JSON by its extension): per zaak its outcome (``copied``, ``skipped``,
  ``present``, ``failed``, ``not-in-legacy``, ``not-started``), reason, documents n/m, bytes, seconds, ZGW URL.
* Exit status 0 when every zaak is in ZGW, 1 when any failed.
"""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import structlog

from ..legacy.errors import LegacyError
from ..store import StoreError
from ..zgw import ZgwError
from . import store as ledger_store
from .copy import CopyFailed, CopyResult, ZaakCopier

log = structlog.get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass
class ReportLine:
    identificatie: str
    outcome: str
    reason: str = ""
    documents: int = 0
    documents_total: int = 0
    bytes: int = 0
    seconds: float = 0.0
    zgw_url: str = ""


@dataclass
class Totals:
    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    documents: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 and left else "-"
        return (f"migrate: {self.done}/{self.total} zaken ({self.failed} failed, {self.skipped} skipped), "
                f"{self.documents} documents, {self.bytes / 1e6:.1f} MB, {rate:.2f} zaken/s, "
                f"{self.bytes / 1e6 / elapsed:.2f} MB/s, ETA {eta}")


class Progress(Protocol):
    def update(self, totals: Totals) -> None: ...

    def close(self, totals: Totals) -> None: ...


class PlainProgress:
    """One line at the start, then one every ``every`` seconds, and one at the end (for logs, CI, a pipe)."""

    def __init__(self, out: IO[str], every: float = 10.0):
        self.out, self.every = out, every
        self._next = time.monotonic()  # the first update (the run's start, 0/N) is shown at once

    def update(self, totals: Totals) -> None:
        if time.monotonic() >= self._next:
            self._next = time.monotonic() + self.every
            print(totals.line(), file=self.out, flush=True)

    def close(self, totals: Totals) -> None:
        print(totals.line(), file=self.out, flush=True)


class BarProgress:
    """A progress bar on a terminal (rich): zaken done/total, failures, documents, MB, rate and ETA."""

    def __init__(self, out: IO[str], total: int):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("zaken"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"), TimeRemainingColumn(),
            console=Console(file=out), transient=False,
        )
        self._task = self._bar.add_task("migrate", total=total, detail="")
        self._bar.start()

    def update(self, totals: Totals) -> None:
        elapsed = max(time.monotonic() - totals.started, 1e-9)
        detail = (f"{totals.failed} failed · {totals.documents} docs · {totals.bytes / 1e6:.1f} MB · "
                  f"{totals.done / elapsed:.2f} zaken/s · {totals.bytes / 1e6 / elapsed:.2f} MB/s")
        self._bar.update(self._task, completed=totals.done, total=totals.total, detail=detail)

    def close(self, totals: Totals) -> None:
        self.update(totals)
        self._bar.stop()


def read_list(lines: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        value = line.split("#", 1)[0].strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


class BulkMigration:
    def __init__(self, copier: ZaakCopier, *, concurrency: int = 4, progress: Progress | None = None):
        self.copier = copier
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.totals = Totals()
        self.lines: dict[str, ReportLine] = {}
        self.stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        copier.progress = self._bytes

    def _bytes(self, size: int) -> None:
        self.totals.bytes += size
        self.totals.documents += 1
        self._show()

    def _show(self) -> None:
        if self.progress is not None:
            self.progress.update(self.totals)

    def stop(self) -> None:
        """Ctrl-C: the first stops starting zaken, the second cancels the ones under way (each undone)."""
        if self.stopping.is_set():
            for task in self._tasks:
                task.cancel()
        self.stopping.set()

    async def run(self, zaken: list[str]) -> list[ReportLine]:
        queue: list[str] = list(zaken)
        listed = set(zaken)
        self.totals.total = len(queue)
        self._show()

        async def worker() -> None:
            while queue and not self.stopping.is_set():
                identificatie = queue.pop(0)
                line, related_zaken = await self._one(identificatie)
                self.lines[identificatie] = line
                for related in related_zaken:
                    if related not in listed:
                        listed.add(related)
                        queue.append(related)
                        self.totals.total += 1
                self.totals.done += 1
                self.totals.failed += line.outcome in ("failed", "not-in-legacy")
                self.totals.skipped += line.outcome in ("skipped", "present")
                self._show()

        for _ in range(self.concurrency):
            task = asyncio.get_running_loop().create_task(worker())
            self._tasks.add(task)
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
        order = list(dict.fromkeys([*zaken, *self.lines]))
        report = [self.lines.get(z) or ReportLine(z, "not-started", "onderbroken") for z in order]
        if self.progress is not None:
            self.progress.close(self.totals)
        return report

    async def _one(self, identificatie: str) -> tuple[ReportLine, list[str]]:
        started = time.monotonic()
        entry = await self.copier.ledger.entry(identificatie)
        if entry is not None and entry.outcome in ledger_store.FINISHED:
            return ReportLine(identificatie, "skipped", f"al in ZGW ({entry.outcome})", entry.documents_done,
                              entry.documents_total, entry.bytes, 0.0, entry.zgw_url or ""), []
        try:
            result = await self.copier.copy(identificatie, documents="now", origin="migrate")
        except asyncio.CancelledError:
            return ReportLine(identificatie, "failed", "onderbroken (Ctrl-C); ongedaan gemaakt",
                              seconds=time.monotonic() - started), []
        except (CopyFailed, LegacyError, ZgwError, StoreError) as exc:
            log.warning("migrate_zaak_failed", zaak=identificatie, error=str(exc))
            return ReportLine(identificatie, "failed", str(exc), seconds=time.monotonic() - started), []
        return _line(result), result.related


def _line(result: CopyResult) -> ReportLine:
    outcome = {"done": "copied", "present": "present", "failed": "failed", "not-in-legacy": "not-in-legacy",
               "documents-pending": "copied"}.get(result.outcome, result.outcome)
    if result.outcome == "done" and not result.copied:
        outcome = "skipped"
    return ReportLine(result.identificatie, outcome, result.reason or "", result.documents_done,
                      result.documents_total, result.bytes, round(result.seconds, 3), result.zgw_url or "")


def write_report(path: Path, lines: list[ReportLine], totals: Totals) -> None:
    rows = [asdict(line) for line in lines]
    if path.suffix.lower() == ".json":
        summary = {"total": len(lines), "copied": sum(r["outcome"] == "copied" for r in rows),
                   "skipped": sum(r["outcome"] in ("skipped", "present") for r in rows),
                   "failed": sum(r["outcome"] in ("failed", "not-in-legacy") for r in rows),
                   "not_started": sum(r["outcome"] == "not-started" for r in rows),
                   "documents": sum(r["documents"] for r in rows), "bytes": sum(r["bytes"] for r in rows),
                   "seconds": round(time.monotonic() - totals.started, 3)}
        path.write_text(json.dumps({"summary": summary, "zaken": rows}, indent=2, ensure_ascii=False) + "\n")
        return
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(ReportLine.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(rows)


def exit_status(lines: list[ReportLine], interrupted: bool) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(line.outcome in ("failed", "not-in-legacy", "not-started") for line in lines) else EXIT_OK


async def migrate(copier: ZaakCopier, zaken: list[str], *, concurrency: int, report: Path | None,
                  progress: Progress | None, on_interrupt: Callable[[Callable[[], None]], None] | None = None,
                  ) -> tuple[int, list[ReportLine]]:
    """Run the bulk migration of ``zaken``; (exit status, report lines). ``on_interrupt`` installs the stop."""
    bulk = BulkMigration(copier, concurrency=concurrency, progress=progress)
    if on_interrupt is not None:
        on_interrupt(bulk.stop)
    lines = await bulk.run(zaken)
    if report is not None:
        write_report(report, lines, bulk.totals)
    return exit_status(lines, bulk.stopping.is_set()), lines


def sigint_handler(stop: Callable[[], None]) -> None:
    """Ctrl-C (and SIGTERM) call ``stop`` instead of raising KeyboardInterrupt in the middle of a copy."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _said_once(stop))


def _said_once(stop: Callable[[], None]) -> Callable[[], None]:
    def handler() -> None:
        print("\nmigrate: stopping — the zaken under way finish (Ctrl-C again: undo them and stop now)",
              file=sys.stderr, flush=True)
        stop()

    return handler


def progress_for(out: IO[str], total: int, every: float) -> Progress:
    return BarProgress(out, total) if out.isatty() else PlainProgress(out, every)


def report_rows(lines: list[ReportLine]) -> list[dict[str, Any]]:
    return [asdict(line) for line in lines]
