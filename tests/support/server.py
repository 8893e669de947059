"""Run the real gateway (`python -m stuf_bridge serve`) in a subprocess on a free port, for tests and benches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running_gateway(
    data_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,  # a loaded machine (two cores, several suites) can take half a minute to start one
    command: tuple[str, ...] = ("serve",),
    pid: list[int] | None = None,
    log: list[str] | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
) -> Iterator[str]:
    """Start the gateway on 127.0.0.1 with port 0 and yield its base URL, read from its 'listening' log line.
    ``command`` picks the subcommand (``("zgw", "serve")`` for the embedded backend alone); the process id is
    appended to ``pid`` when given (benchmarks read its memory); every log line is appended to ``log`` when given.
    ``port`` is the port to listen on (0: a free one), ``host`` the address (a wildcard one yields the loopback URL)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_") or k == "STUF_BRIDGE_SHARED"}
    full_env.update({"STUF_BRIDGE_LOG_FORMAT": "json", "STUF_BRIDGE_LOG_LEVEL": "INFO", **(env or {})})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stuf_bridge",
            *command,
            "--host",
            host,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=full_env,
        text=True,
    )
    if pid is not None:
        pid.append(proc.pid)
    url: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if log is not None:
                log.append(line)
            if len(seen) < 200:
                seen.append(line)
            if not ready.is_set():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "listening":
                    url.append(event["url"].replace("://0.0.0.0:", "://127.0.0.1:"))
                    ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not ready.wait(0.1):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start:\n" + "".join(seen))
        yield url[0]
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a gateway process: SIGTERM, and SIGKILL when it has not ended within ten seconds."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident memory now (``VmRSS``) and at its peak (``VmHWM``), in KiB, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields
