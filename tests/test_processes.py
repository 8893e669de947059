"""Several gateway processes and their stop, over real HTTP (docs/operations.md, Scaling and Stopping).

- Two gateways on one PostgreSQL store and one ZGW backend (one of them ``serve --workers 2``), sent the same
  messages: identifiers are unique, a resend is answered once (the same answer), nothing is created twice.
- SIGTERM while a message is in flight (a ZGW backend slowed by a proxy): no new connection is accepted, the message
  is answered, the process exits 0; with a grace period shorter than the message, the process exits within it and
  the message gets a StUF fault (the gateway stops, resend), and its resend completes it once.
"""

from __future__ import annotations

import concurrent.futures
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge.gateway import parse_answer
from stuf_bridge.stuf.namespaces import ZKN
from stuf_bridge.zgw.auth import JwtAuth
from tests.operations import messages as zm
from tests.store.conftest import pg_admin_url, pg_database_factory
from tests.support.messages import di02
from tests.support.server import running_gateway
from .support.waiting import wait_for

__all__ = ["pg_admin_url", "pg_database_factory"]  # the store tests' throw-away PostgreSQL databases

AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")
DEMO_RSIN = "002220647"


def identifier(answer: httpx.Response) -> str:
    assert answer.status_code == 200 and b"Du02" in answer.content, answer.text
    found = parse_answer(answer.content).findtext("ZKN:zaak/ZKN:identificatie", namespaces={"ZKN": ZKN})
    assert found
    return found


def post(url: str, service: str, message: tuple[bytes, dict[str, str]], timeout: float = 60) -> httpx.Response:
    body, headers = message
    return httpx.post(f"{url}/zds/{service}", content=body, headers=headers, timeout=timeout)


def zaken(zgw_url: str, identificatie: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{zgw_url}/zaken/api/v1/zaken", params={"identificatie": identificatie}, auth=AUTH,
                       headers={"Accept-Crs": "EPSG:4326"}, timeout=30)
    answer.raise_for_status()
    return [z for z in answer.json()["results"] if z["identificatie"] == identificatie]


def messages(log: list[str]) -> list[dict[str, object]]:
    events = []
    for line in list(log):
        if line.startswith("{") and '"event": "message"' in line:
            events.append(json.loads(line))
    return events


def test_two_gateways_on_one_postgresql_answer_each_message_once(
    tmp_path: Path, pg_database_factory: Callable[[], str]
) -> None:
    env = {"STUF_BRIDGE_DATABASE_URL": pg_database_factory(), "STUF_BRIDGE_DEFAULT_RSIN": DEMO_RSIN}
    log_one: list[str] = []
    log_two: list[str] = []
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve")) as zgw_url:
        env["STUF_BRIDGE_ZGW_URL"] = zgw_url
        with running_gateway(tmp_path / "one", env=env, command=("serve", "--workers", "2"), log=log_one,
                             timeout=120) as one, \
                running_gateway(tmp_path / "two", env=env, log=log_two, timeout=120) as two:
            # both workers of the first gateway listen, each saying so
            wait_for(lambda: {json.loads(line).get("worker") for line in log_one if '"listening"' in line} == {1, 2})
            urls = [one, two]
            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
                # identifiers: 24 requests over both gateways at once, each a message of its own
                numbers = list(pool.map(
                    lambda n: post(urls[n % 2], "VrijeBerichten", di02(referentienummer=f"pg-nr-{n}")),
                    range(24)))
                # one creeerZaak sent six times, three times to each gateway, at once (a client's resends)
                zaak = "0363ZK-PROCESSES-1"
                message = zm.creeer_zaak(identificatie=zaak, referentienummer="pg-zaak-1")
                copies = list(pool.map(lambda n: post(urls[n % 2], "OntvangAsynchroon", message), range(6)))
                # one genereerZaakIdentificatie resent to both: the same number twice, not two numbers
                resent = list(pool.map(lambda n: post(urls[n % 2], "VrijeBerichten", di02(referentienummer="pg-nr-x")),
                                       range(4)))
            identifiers = [identifier(answer) for answer in numbers]
            assert len(set(identifiers)) == 24, identifiers  # unique across processes
            assert all(a.status_code == 200 and b"Bv03" in a.content for a in copies), [a.text for a in copies]
            assert len(zaken(zgw_url, zaak)) == 1  # created once
            again = {identifier(answer) for answer in resent}
            assert len(again) == 1 and again.isdisjoint(identifiers)
            # the logs of both gateways: each message processed once, every other copy answered as a resend
            wait_for(lambda: len(messages(log_one)) + len(messages(log_two)) == 24 + 6 + 4)
            events = messages(log_one) + messages(log_two)
            for ref, copies_sent in (("pg-zaak-1", 6), ("pg-nr-x", 4)):
                of_ref = [e for e in events if e["referentienummer"] == ref]
                assert len(of_ref) == copies_sent
                assert sum(1 for e in of_ref if not e.get("replayed")) == 1, of_ref
            assert {e.get("worker") for e in messages(log_one)} <= {1, 2}
            # readiness on both: the shared store and the shared ZGW backend
            for url in urls:
                ready = httpx.get(f"{url}/ready", timeout=30)
                assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text


# --- stopping ---------------------------------------------------------------------------------------------


@contextmanager
def slowed(target: str, delay: float, seen: threading.Event, only: Callable[[str, str], bool] | None = None,
           forwarded: threading.Event | None = None) -> Iterator[str]:
    """An HTTP proxy in front of ``target`` that holds every request (or those ``only(method, path)`` picks) ``delay``
    seconds before passing it on; ``seen`` is set at the first held request, ``forwarded`` once it has reached the
    target. Yields its base URL (loopback)."""

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def relay(self) -> None:
            held = only is None or only(self.command, self.path)
            if held:
                seen.set()
                time.sleep(delay)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length",
                                                                                   "connection")}
            answer = httpx.request(self.command, f"{target}{self.path}", content=body, headers=headers, timeout=60)
            content = answer.content
            if held and forwarded is not None:
                forwarded.set()
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay  # noqa: N815

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _exited(pid: int, timeout: float) -> bool:
    """The process has ended (gone, or a zombie its parent, this test's Popen, has not reaped yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_answers_the_message_in_flight_then_exits(tmp_path: Path) -> None:
    seen = threading.Event()
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve")) as zgw_url, \
            slowed(zgw_url, 0.4, seen) as slow_url:
        env = {"STUF_BRIDGE_ZGW_URL": slow_url, "STUF_BRIDGE_DEFAULT_RSIN": DEMO_RSIN,
               "STUF_BRIDGE_SHUTDOWN_GRACE_SECONDS": "60"}
        pid: list[int] = []
        log: list[str] = []
        with running_gateway(tmp_path / "gw", env=env, pid=pid, log=log, timeout=120) as url:
            zaak = "0363ZK-SIGTERM-1"
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                answer = pool.submit(post, url, "OntvangAsynchroon",
                                     zm.creeer_zaak(identificatie=zaak, referentienummer="sigterm-1"), 120)
                assert seen.wait(60)  # the message is in flight: its first ZGW call waits in the proxy
                os.kill(pid[0], signal.SIGTERM)
                wait_for(lambda: any('"stopping"' in line for line in log))
                with pytest.raises(httpx.ConnectError):  # no new connection is accepted while it finishes
                    httpx.get(f"{url}/health", timeout=5)
                result = answer.result(timeout=120)
            assert result.status_code == 200 and b"Bv03" in result.content, result.text
            assert _exited(pid[0], 60)
            assert len(zaken(zgw_url, zaak)) == 1
            assert any('"stopped"' in line and "SIGTERM" in line for line in log)


def test_the_grace_period_bounds_the_stop(tmp_path: Path) -> None:
    """A creeerZaak whose POST /zaken is held 8 s by a proxy, SIGTERM with a grace period of 1 s: the message is
    answered with a StUF fault (Fo03 StUF046, plek server, "stopt; stuur opnieuw"), not a bare 500, and the process
    exits within the grace period. The held POST still reaches ZGW afterwards (the zaak exists there, the gateway
    did not see the answer): a new gateway on the same store, sent the same message again, answers Bv03 and the
    zaak exists once: nothing was half-written or done twice."""
    seen, forwarded = threading.Event(), threading.Event()
    zaak, message = "0363ZK-SIGTERM-2", zm.creeer_zaak(identificatie="0363ZK-SIGTERM-2", referentienummer="sigterm-2")
    with running_gateway(tmp_path / "zgw", command=("zgw", "serve")) as zgw_url, \
            slowed(zgw_url, 8, seen, only=lambda method, path: (method, path) == ("POST", "/zaken/api/v1/zaken"),
                   forwarded=forwarded) as slow_url:
        env = {"STUF_BRIDGE_ZGW_URL": slow_url, "STUF_BRIDGE_DEFAULT_RSIN": DEMO_RSIN,
               "STUF_BRIDGE_SHUTDOWN_GRACE_SECONDS": "1"}
        pid: list[int] = []
        log: list[str] = []
        with running_gateway(tmp_path / "gw", env=env, pid=pid, log=log, timeout=120) as url:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                answer = pool.submit(post, url, "OntvangAsynchroon", message, 120)
                assert seen.wait(60)
                stopped_at = time.monotonic()
                os.kill(pid[0], signal.SIGTERM)
                result = answer.result(timeout=60)
                assert _exited(pid[0], 25)  # within the grace period (1 s) plus start-up of the shutdown, not 8 s
                assert time.monotonic() - stopped_at < 25
        assert result.status_code == 500, result.text
        fault = parse_answer(result.content)  # the SOAP Fault's detail: the Fo03
        found = {etree.QName(el).localname: el.text for el in fault.iter() if isinstance(el.tag, str)}
        assert found["code"] == "StUF046" and found["plek"] == "server", found
        assert "stopt" in (found["omschrijving"] or "") and "opnieuw" in (found["details"] or ""), found
        assert b"Internal Server Error" not in result.content
        lines = [json.loads(line) for line in log if line.startswith("{")]
        assert any(e["event"] == "grace_period_ended" and e["messages"] == 1 for e in lines), lines
        assert any(e["event"] == "message" and e.get("fault_code") == "StUF046" and e["level"] == "error"
                   for e in lines), [e for e in lines if e["event"] == "message"]
        assert not any("Exception in ASGI application" in line or "Traceback" in line for line in log), log
        assert forwarded.wait(30)  # the held POST reached ZGW after the gateway had given up on it
        wait_for(lambda: len(zaken(zgw_url, zaak)) == 1)
        # the resend, to a new gateway process on the same store (the SQLite file of the same data directory)
        env["STUF_BRIDGE_ZGW_URL"] = zgw_url
        with running_gateway(tmp_path / "gw", env=env, timeout=120) as url:
            again = post(url, "OntvangAsynchroon", message)
        assert again.status_code == 200 and b"Bv03" in again.content, again.text
        assert len(zaken(zgw_url, zaak)) == 1


def test_worker_processes_stop_together_on_sigterm(tmp_path: Path) -> None:
    pid: list[int] = []
    log: list[str] = []
    with running_gateway(tmp_path / "gw", command=("serve", "--workers", "2"), pid=pid, log=log, timeout=120) as url:
        wait_for(lambda: sum('"listening"' in line for line in log) == 2)
        assert httpx.get(f"{url}/health", timeout=30).json() == {"status": "ok"}
        os.kill(pid[0], signal.SIGTERM)
        assert _exited(pid[0], 90)
    stopped = [json.loads(line) for line in log if '"stopped"' in line]
    assert {event.get("worker") for event in stopped} == {1, 2, None}  # each worker, then the supervisor


def test_ctrl_c_stops_with_one_line_and_exit_code_130(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "stuf_bridge", "serve", "--port", "0", "--data-dir",
                             str(tmp_path)], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if '"listening"' in line:
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, rest = proc.communicate()
        raise AssertionError("".join(lines) + rest) from None
    assert proc.returncode == 130
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert '"stopped"' in rest and "SIGINT" in rest


# --- metrics across worker processes ------------------------------------------------------------------------


def scraped_messages(url: str) -> tuple[float, dict[str, str]]:
    """The sum of ``stuf_bridge_messages_total`` over its labels in one scrape of ``/metrics``, and the build info."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = httpx.get(f"{url}/metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    total, build = 0.0, {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "stuf_bridge_messages_total":
                total += sample.value
            elif sample.name == "stuf_bridge_build_info":
                build = dict(sample.labels)
    return total, build


def test_metrics_add_up_every_workers_counters(tmp_path: Path) -> None:
    """``serve --workers 2``: messages are sent until both workers have handled some (their log lines say which);
    every scrape of /metrics, whichever worker answers it, counts all of them. The run's metrics directory is gone
    after the stop."""
    log: list[str] = []
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with running_gateway(tmp_path / "gw", command=("serve", "--workers", "2"), log=log, timeout=120,
                         env={"TMPDIR": str(tmp)}) as url:
        wait_for(lambda: sum('"listening"' in line for line in log) == 2)
        assert len(list(tmp.glob("stuf-bridge-metrics-*"))) == 1
        sent = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            while {e.get("worker") for e in messages(log)} != {1, 2}:
                assert sent < 400, "the kernel gave every connection to one worker"
                answers = list(pool.map(lambda n: post(url, "VrijeBerichten", di02(referentienummer=f"m-{n}")),
                                        range(sent, sent + 8)))
                assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
                sent += 8
                wait_for(lambda n=sent: len(messages(log)) == n)
        per_worker = {w: sum(1 for e in messages(log) if e.get("worker") == w) for w in (1, 2)}
        assert sum(per_worker.values()) == sent and min(per_worker.values()) > 0, per_worker
        for _ in range(6):  # successive scrapes, on new connections: any worker may answer each
            total, build = scraped_messages(url)
            assert total == sent, (total, sent, per_worker)
            assert build.get("version")
    assert list(tmp.glob("stuf-bridge-metrics-*")) == []  # removed by the supervisor when it stopped


def test_workers_serve_the_internal_port_too(tmp_path: Path) -> None:
    """``serve --workers 2`` with clients configured and the embedded backend, which puts /metrics, /ready and the
    backend on an internal port: every worker serves both ports, the internal paths only on the internal one, and
    /metrics there adds up both workers' messages."""
    from tests.security.helpers import PORTAAL_PASSWORD, internal_url, write_config

    log: list[str] = []
    config = write_config(tmp_path)
    with running_gateway(tmp_path / "data", env={"STUF_BRIDGE_CONFIG": str(config)}, log=log, timeout=120,
                         command=("serve", "--workers", "2")) as url:
        wait_for(lambda: sum('"listening"' in line for line in log) == 2)
        internal = internal_url(log)
        assert {json.loads(line)["internal"] for line in log if '"listening"' in line} == {internal}
        sent = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            while {e.get("worker") for e in messages(log)} != {1, 2}:
                assert sent < 80, "the kernel gave every connection to one worker"
                numbers = range(sent, sent + 4)
                answers = list(pool.map(
                    lambda n: httpx.post(f"{url}/zds/OntvangAsynchroon",
                                         content=zm.creeer_zaak(identificatie=f"0363ZK-INT-{n}",
                                                                referentienummer=f"int-{n}")[0],
                                         headers=zm.creeer_zaak()[1], auth=("portaal", PORTAAL_PASSWORD), timeout=60),
                    numbers))
                assert all(a.status_code == 200 and b"Bv03" in a.content for a in answers), [a.text for a in answers]
                sent += 4
                wait_for(lambda n=sent: len(messages(log)) == n)
        for _ in range(4):  # new connections each: either worker answers
            assert httpx.get(f"{url}/metrics", timeout=30).status_code == 404
            assert httpx.get(f"{url}/ready", timeout=30).status_code == 404
            assert httpx.get(f"{url}/health", timeout=30).status_code == 200
            assert httpx.post(f"{internal}/zds/OntvangAsynchroon", content=b"<x/>", timeout=30).status_code == 404
            assert httpx.get(f"{internal}/ready", timeout=30).status_code == 200
            assert scraped_messages(internal)[0] == sent
        for n in range(sent):  # each zaak once, in the embedded backend on the internal port
            answer = httpx.get(f"{internal}/zgw/zaken/api/v1/zaken", params={"identificatie": f"0363ZK-INT-{n}"},
                               auth=AUTH, headers={"Accept-Crs": "EPSG:4326"}, timeout=30)
            assert answer.status_code == 200 and answer.json()["count"] == 1, answer.text


def test_a_message_in_flight_at_sigterm_still_reaches_the_embedded_backend_on_the_internal_port(
    tmp_path: Path,
) -> None:
    """With clients configured the embedded backend is served on the internal port. A creeerZaak whose body is still
    arriving when SIGTERM comes makes its ZGW calls after the stop began: the internal port must still serve them
    until the messages in flight are answered (it stops after the SOAP port has drained), so the answer is Bv03."""
    from tests.security.helpers import PORTAAL_PASSWORD, internal_url, write_config

    log: list[str] = []
    pid: list[int] = []
    config = write_config(tmp_path)
    body, headers = zm.creeer_zaak(identificatie="0363ZK-INT-STOP", referentienummer="int-stop")
    half = len(body) // 2
    go_on = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[:half]
        assert go_on.wait(60)
        yield body[half:]

    with running_gateway(tmp_path / "data", env={"STUF_BRIDGE_CONFIG": str(config),
                                                 "STUF_BRIDGE_SHUTDOWN_GRACE_SECONDS": "60"},
                         log=log, pid=pid, timeout=120) as url:
        assert internal_url(log)  # the embedded backend is on the internal port, apart from SOAP
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            answer = pool.submit(httpx.post, f"{url}/zds/OntvangAsynchroon", content=slow_body(),
                                 headers={**headers, "content-length": str(len(body))},
                                 auth=("portaal", PORTAAL_PASSWORD), timeout=120)
            time.sleep(1.0)  # the first half is in: the message is in flight
            os.kill(pid[0], signal.SIGTERM)
            wait_for(lambda: any('"stopping"' in line for line in log))
            time.sleep(0.5)
            go_on.set()
            result = answer.result(timeout=120)
        assert result.status_code == 200 and b"Bv03" in result.content, result.text
        assert _exited(pid[0], 60)


def test_each_run_gets_a_fresh_metrics_directory_and_a_killed_runs_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supervisor's metrics directory: new and empty per run, set for the workers; one left by a supervisor that
    was killed (its process gone) is removed, one of a supervisor still running is left alone."""
    import tempfile

    from stuf_bridge.runner import METRICS_DIR_PREFIX, MULTIPROC_ENV, metrics_directory

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"{METRICS_DIR_PREFIX}{gone.pid}-abc"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"old counts")
    alive = tmp_path / f"{METRICS_DIR_PREFIX}{os.getppid()}-def"
    alive.mkdir()
    made = Path(metrics_directory())
    try:
        assert not stale.exists() and alive.exists()
        assert made.parent == tmp_path and made.name.startswith(f"{METRICS_DIR_PREFIX}{os.getpid()}-")
        assert list(made.iterdir()) == [] and os.environ[MULTIPROC_ENV] == str(made)
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
