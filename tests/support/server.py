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
    prefix: tuple[str, ...] = (),
) -> Iterator[str]:
    """Start the gateway on 127.0.0.1 with port 0 and yield its base URL, read from its 'listening' log line.
    ``command`` picks the subcommand (``("zgw", "serve")`` for the embedded backend alone); the process id is
    appended to ``pid`` when given (benchmarks read its memory); every log line is appended to ``log`` when given.
    ``port`` is the port to listen on (0: a free one), ``host`` the address (a wildcard one yields the loopback URL).
    ``prefix``: a command the gateway's command line is handed to (it must exec it, keeping the pid: ``on_host``)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_") or k == "STUF_BRIDGE_SHARED"}
    full_env.update({"STUF_BRIDGE_LOG_FORMAT": "json", "STUF_BRIDGE_LOG_LEVEL": "INFO", **(env or {})})
    proc = subprocess.Popen(
        [
            *prefix,
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


# run in a UTS namespace of its own: set the hostname, then exec the rest of the command line in the same process
_SET_HOSTNAME = "import os, socket, sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"


def on_host(hostname: str) -> tuple[str, ...]:
    """A ``prefix`` for ``running_gateway`` that runs the gateway under a hostname of its own (``unshare --uts``, as
    root): to the step journal (recovery/journal.py) it is then a process on another host. The pid stays the
    gateway's (unshare and the hostname step exec, they do not fork)."""
    return ("unshare", "--uts", "--", sys.executable, "-c", _SET_HOSTNAME, hostname)


def uts_namespace_refusal() -> str | None:
    """Why ``on_host`` cannot be used here (not root, no ``unshare``, namespaces not permitted), None when it can."""
    try:
        result = subprocess.run([*on_host("stuf-bridge-probe"), sys.executable, "-c",
                                 "import socket; print(socket.gethostname())"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare --uts not usable: {exc}"
    if result.returncode != 0 or result.stdout.strip() != "stuf-bridge-probe":
        return f"unshare --uts not permitted here: {(result.stderr or result.stdout).strip()[-300:]}"
    return None


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
