"""Running the gateway as a server: the checks before it serves, and several worker processes on one socket.

``serve --workers N`` binds the listening socket once, checks what can be checked before serving (:func:`preflight`:
the data directory, the store, which is also migrated here, once, and the mapping files), then starts N worker
processes that accept on that socket, the kernel spreading connections over them. Every worker opens the same store;
what must happen once across processes (an identifier number, a resend's answer, an outbox item) is decided in the
store, as it is across pods (docs/operations.md, Scaling).

The workers' metrics are added up across them: prometheus_client's multiprocess mode, in a directory of this run's
own (:func:`metrics_directory`), so ``/metrics`` shows every worker's counters whichever worker answers.

The parent process supervises: a worker that dies is logged and started again; one that dies before it listens
stops the whole start (it would fail the same way again); SIGTERM or SIGINT is passed to every worker, which stops
accepting and answers the messages in flight (``shutdown_grace_seconds``) before the parent exits.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import multiprocess

from .recovery.journal import pid_runs
from .settings import Settings
from .web.app import MULTIPROC_ENV

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.synchronize import Event

log = structlog.get_logger("stuf_bridge")

RESTARTS_PER_MINUTE = 5  # a worker dying more often than this stops the gateway rather than looping
METRICS_DIR_PREFIX = "stuf-bridge-metrics-"  # + supervisor pid: the per-run directory of the workers' metrics


def preflight(settings: Settings) -> None:
    """What would otherwise fail inside the server's start-up with a traceback, found before it, each as a
    :class:`~stuf_bridge.cli.StartupError` with its exit code: the data directory (created, writable), the store
    (opened and migrated, then closed again) and the mapping files."""
    from .cli import Exit, StartupError, one_line
    from .mapping import MappingError, Mappings
    from .store import StoreError, create_store

    data_dir = settings.data_dir
    needs_data_dir = settings.database_url is None or settings.zgw_embedded
    if needs_data_dir:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            probe = data_dir / f".stuf-bridge-write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StartupError(
                Exit.DATA_DIR,
                f"data directory {data_dir.resolve()}: {exc.strerror or exc}; create it writable for this user or "
                "choose another (--data-dir, STUF_BRIDGE_DATA_DIR)",
            ) from None
    if settings.zgw_embedded and settings.workers > 1:  # seeded once here, not by every worker at once
        from .zgw_embedded import DEMO_CATALOGUE
        from .zgw_embedded.db import Database
        from .zgw_embedded.seeding import load_yaml, seed_into

        database = Database(data_dir / "zgw" / "zgw.sqlite3")
        try:
            if database.is_empty():
                seed_into(database, load_yaml(DEMO_CATALOGUE))
        finally:
            database.close()
    try:
        if settings.workers > 1:  # one process: create_app loads them (and serve says what is wrong in one line)
            Mappings.load(overlay_dir=settings.mappings_dir)
    except MappingError as exc:
        raise StartupError(Exit.CONFIGURATION, f"mapping files: {one_line(exc)}") from None

    async def open_store() -> None:
        async with create_store(settings.store_url):
            pass

    try:
        asyncio.run(open_store())
    except StoreError as exc:
        where = "STUF_BRIDGE_DATABASE_URL" if settings.database_url else "the SQLite file in --data-dir"
        raise StartupError(
            Exit.STORE, f"store: {one_line(exc)}; check {where} and that the database accepts connections"
        ) from None


def _worker(settings: Settings, sock: socket.socket, what: dict[str, str], embedded_base: str | None, number: int,
            listening: Event, internal: socket.socket | None = None) -> None:
    """One worker process (spawned: a fresh interpreter, nothing inherited but its arguments). With an internal
    socket (security.internal_port), the worker serves it too, as it serves the main one: every worker accepts on
    both, and the internal paths are guarded by the internal socket's port in each."""
    from . import cli
    from .web.app import create_app

    cli.configure_logging(settings)
    structlog.contextvars.bind_contextvars(worker=number)  # on every log line of this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    cli._Server.on_listening = listening.set
    try:
        app = create_app(settings, embedded_base=embedded_base,
                         internal_port=internal.getsockname()[1] if internal is not None else None)
        raise SystemExit(cli._run(app, settings, sock, what, internal))
    except cli.StartupError as exc:
        log.error("worker_failed", reason=str(exc))
        raise SystemExit(int(exc.code)) from None


def supervise(settings: Settings, sock: socket.socket, what: dict[str, str], embedded_base: str | None,
              internal: socket.socket | None = None) -> int:
    """Start ``settings.workers`` workers on ``sock`` (and ``internal``, the internal port's socket, when there is
    one) and keep them running until SIGTERM or SIGINT."""
    from .cli import Exit

    context = multiprocessing.get_context("spawn")
    received: list[int] = []

    def on_signal(sig: int, frame: Any) -> None:
        received.append(sig)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    workers: dict[int, tuple[SpawnProcess, Event]] = {}
    deaths: list[float] = []

    def start(number: int) -> None:
        listening = context.Event()
        process = context.Process(target=_worker, name=f"stuf-bridge-worker-{number}",
                                  args=(settings, sock, what, embedded_base, number, listening, internal))
        process.start()
        workers[number] = (process, listening)

    metrics_dir = metrics_directory()
    log.info("workers_starting", workers=settings.workers, pid=os.getpid(), metrics_dir=metrics_dir)
    code = Exit.OK
    try:
        for number in range(1, settings.workers + 1):
            start(number)
        while not received:
            time.sleep(0.2)
            for number, (process, listening) in list(workers.items()):
                if process.is_alive() or received:
                    continue
                exitcode = process.exitcode
                if not listening.is_set():  # it never listened: the next one would fail the same way
                    log.error("worker_failed_to_start", worker=number, exitcode=exitcode)
                    code = Exit(exitcode) if exitcode in set(Exit) and exitcode else Exit.FAILED
                    received.append(signal.SIGTERM)
                    break
                now = time.monotonic()
                deaths[:] = [t for t in deaths if now - t < 60] + [now]
                if len(deaths) > RESTARTS_PER_MINUTE:
                    log.error("workers_dying", worker=number, exitcode=exitcode,
                              reason=f"more than {RESTARTS_PER_MINUTE} worker deaths in a minute; stopping")
                    code = Exit.FAILED
                    received.append(signal.SIGTERM)
                    break
                log.error("worker_died", worker=number, exitcode=exitcode, restarting=True)
                if process.pid is not None:  # its in-flight gauge no longer counts; its counters stay in the sums
                    multiprocess.mark_process_dead(process.pid, metrics_dir)  # type: ignore[no-untyped-call]
                start(number)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_all(settings, [process for process, _ in workers.values()])
        sock.close()
        if internal is not None:
            internal.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop(MULTIPROC_ENV, None)
    names = [signal.Signals(sig).name for sig in received]
    if code == Exit.OK:
        log.info("stopped", signal=names[0] if names else None, workers=settings.workers)
        return Exit.INTERRUPTED if names and names[0] == "SIGINT" else Exit.OK
    return code


def metrics_directory() -> str:
    """A new, empty directory for this run's worker metrics (prometheus_client's multiprocess mode), under
    ``TMPDIR``, set as ``PROMETHEUS_MULTIPROC_DIR`` for the workers about to be spawned. A fresh one per run: files
    of an earlier run (its counters) never add to this one's. The supervisor removes it when it stops; earlier runs'
    directories that a killed supervisor left behind are removed here when their process is gone."""
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{METRICS_DIR_PREFIX}*"):
        owner = stale.name.removeprefix(METRICS_DIR_PREFIX).partition("-")[0]
        if owner.isdigit() and int(owner) != os.getpid() and not pid_runs(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)
    path = tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = path  # read by prometheus_client when a spawned worker imports it
    return path


def stop_all(settings: Settings, processes: list[SpawnProcess]) -> None:
    """SIGTERM to every worker, then wait: each answers its messages in flight within the grace period (plus time
    for the store and clients to close); one still running after that is killed."""
    from .cli import STOP_BACKSTOP_SECONDS

    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.shutdown_grace_seconds + STOP_BACKSTOP_SECONDS + 10
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.error("worker_killed", pid=process.pid, reason="still running after the grace period")
            process.kill()
            process.join()
