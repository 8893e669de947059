"""What the step journal costs, and how well messages that fail halfway are repaired by their resend.

    python bench/recovery_bench.py [--rounds 3] [--kills 10] [--cost-messages 300] \
        [--out bench/results/recovery.json]

Three parts:

- **journal cost**: creeerZaak through the gateway in-process against the zero-latency ZGW stub of
  bench/zaak_overhead_bench.py, alternately with the journal on and off (``recovery.enabled``) in blocks, in one
  process (so that the machine's load hits both alike): CPU ms and wall p50 per message, the median block of each,
  and the median of the pairs' ratios (a block on against the block off right after it); then a few blocks on
  with the journal's own functions timed (``journal_cpu_ms_per_message``: not in the comparison, as the timing
  costs CPU itself);
- **fault matrix**: every scenario of tests/recovery/faults.py (creeerZaak with and without identificatie,
  voegZaakdocumentToe inline and in bestandsdelen, voegBesluitToe, updateZaak) × every way of failing (answer lost
  after the write, write landing after the gateway's timeout, backend gone from that write on) × every write
  position, ``--rounds`` times: messages tried, first answers (fault / Bv03), resends answered Bv03, leftovers
  after the resend (ZGW differs from a clean run) and duplicates (a second zaak or document);
- **kill -9**: ``--kills`` rounds of a real gateway process killed at a random moment in a creeerZaak against a real
  embedded ZGW behind a slow proxy, restarted, and the message resent: resends answered Bv03, their time, and
  leftovers/duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
try:
    import stuf_bridge  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(REPO / "src"))

import httpx

import zaak_overhead_bench as overhead  # type: ignore[import-not-found]
from stuf_bridge.gateway import Gateway
from stuf_bridge.mapping import Mappings
from stuf_bridge.settings import load_settings, with_demo_profile
from stuf_bridge.store import create_store
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import ZgwClients
from tests.operations.messages import creeer_zaak
from tests.recovery.faults import MODES, SCENARIOS, snapshot
from tests.recovery.slow_proxy import SlowProxy
from tests.recovery.test_fault_matrix import berichtcode, clean_round, faulty_round, running_rig
from tests.support.server import running_gateway

RSIN = "002220647"


# --- journal cost ----------------------------------------------------------------------------------------------


async def journal_cost(messages: int, blocks: int = 12) -> dict[str, Any]:
    overhead.quiet_logs()
    schemas, mappings = Schemas(), Mappings.load()
    service, build = overhead.OPS["creeerZaak"]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        base = overhead.make_settings(data_dir)
        recorder = await overhead.record(base, schemas, mappings, data_dir / "embedded")
        stub = overhead.Stub(recorder.answers)
        stub.operation = "creeerZaak"
        store = create_store(f"sqlite:///{data_dir}/s.db")
        await store.open()
        seq = iter(range(1_000_000, 10_000_000))
        figures: dict[str, list[dict[str, float]]] = {"on": [], "off": [], "instrumented": []}
        spent = [0.0]
        # on and off alternately; then a few blocks with the journal's own code timed (the timing wrappers cost CPU
        # themselves, so those blocks are not in the comparison)
        modes = ["on" if block % 2 == 0 else "off" for block in range(blocks * 2)] + \
            ["instrumented"] * max(2, blocks // 4)
        try:
            for mode in modes:
                if mode == "instrumented" and not figures["instrumented"]:
                    spent = _instrument_journal()
                settings = base.model_copy(update={"recovery": base.recovery.model_copy(
                    update={"enabled": mode != "off"})})
                async with ZgwClients.from_settings(settings, None, httpx.MockTransport(stub.handler)) as zgw:
                    gateway = Gateway(settings, store, schemas, zgw=zgw, mappings=mappings)
                    for _ in range(20):
                        overhead.check_answer("creeerZaak", await overhead.call(gateway, service, build(next(seq))))
                    built = [build(next(seq)) for _ in range(messages)]
                    wall: list[float] = []
                    spent[0] = 0.0
                    cpu = time.process_time()
                    for message in built:
                        overhead.check_answer("creeerZaak", await overhead.timed_call(gateway, service, message,
                                                                                       wall))
                    figures[mode].append({"cpu_ms": (time.process_time() - cpu) * 1000 / messages,
                                          "journal_cpu_ms": spent[0] * 1000 / messages,
                                          "p50_ms": overhead.percentile(wall, 50)})
        finally:
            await store.close()
    result: dict[str, Any] = {"messages_per_block": messages, "blocks_each": blocks}
    instrumented = figures.pop("instrumented")
    for mode, rows in figures.items():
        result[mode] = {"cpu_ms_per_message": statistics.median(r["cpu_ms"] for r in rows),
                        "cpu_ms_per_message_min": min(r["cpu_ms"] for r in rows),
                        "p50_ms": statistics.median(r["p50_ms"] for r in rows),
                        "p50_ms_min": min(r["p50_ms"] for r in rows),
                        "blocks": rows}
    for name in ("cpu_ms_per_message", "cpu_ms_per_message_min", "p50_ms", "p50_ms_min"):
        result[f"increase_{name}"] = result["on"][name] / result["off"][name] - 1
    # paired: each block with the journal on against the block with it off that ran right after it (the machine's
    # load drifts less within a pair than over the whole run), the median of those ratios
    pairs = [on["cpu_ms"] / off["cpu_ms"] - 1 for on, off in zip(figures["on"], figures["off"], strict=True)]
    result["increase_cpu_ms_per_message_paired"] = statistics.median(pairs)
    journal_ms = statistics.median(r["journal_cpu_ms"] for r in instrumented)
    result["journal_cpu_ms_per_message"] = journal_ms
    result["journal_share_of_off_cpu"] = journal_ms / result["off"]["cpu_ms_per_message"]
    return result


def _instrument_journal() -> list[float]:
    """Add the CPU time spent in the journal's own code (its statements included) to the returned cell."""
    from stuf_bridge.recovery import journal

    spent = [0.0]

    def timed(function: Any) -> Any:
        async def run(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - started
        return run

    journal.Journal.begin = timed(journal.Journal.begin)  # type: ignore[method-assign]
    journal.MessageJournal.before = timed(journal.MessageJournal.before)  # type: ignore[method-assign]
    journal.MessageJournal.after = timed(journal.MessageJournal.after)  # type: ignore[method-assign]
    return spent


# --- fault matrix ----------------------------------------------------------------------------------------------


async def fault_matrix(rounds: int) -> list[dict[str, Any]]:
    overhead.quiet_logs()
    schemas = Schemas()
    rows = []
    for name, scenario in SCENARIOS.items():
        for mode in MODES:
            with tempfile.TemporaryDirectory() as tmp:
                settings = with_demo_profile(load_settings(
                    None, data_dir=Path(tmp), log_level="WARNING", bestandsdelen_threshold_bytes=1000,
                    recovery={"settle_seconds": 0.4, "sweep_seconds": 3600}))
                async with running_rig(settings, schemas) as rig:
                    expected, writes = await clean_round(rig, scenario)
                    row: dict[str, Any] = {"scenario": name, "mode": mode, "writes_per_message": writes,
                                           "messages": 0, "first_fault": 0, "first_bv03": 0, "resend_bv03": 0,
                                           "left_after_resend": 0, "duplicates": 0, "wrong": []}
                    number = 0
                    for _ in range(rounds):
                        for nth in range(1, writes + 1):
                            number += 1
                            outcome = await faulty_round(rig, scenario, mode, nth, number)
                            row["messages"] += 1
                            row["first_fault" if outcome["first"] == "fault" else "first_bv03"] += 1
                            row["resend_bv03"] += outcome["resend"] == "Bv03"
                            found = outcome["zgw"]
                            row["duplicates"] += found.get("zaken", 0) > 1 or found.get("document-kopieen", 0) > 1
                            if found != expected:
                                row["left_after_resend"] += 1
                                row["wrong"].append({"position": nth, "found": found})
            print(json.dumps({k: v for k, v in row.items() if k != "wrong"}), flush=True)
            rows.append(row)
    return rows


# --- kill -9 ---------------------------------------------------------------------------------------------------


def _post(url: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response | None:
    body, headers = message
    try:
        return httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=120)
    except httpx.HTTPError:
        return None


async def kills(count: int, seed: int = 14) -> dict[str, Any]:
    import threading

    chance = random.Random(seed)
    scenario = SCENARIOS["creeerZaak"]
    rounds = [scenario.round(n, "k") for n in range(count)]
    messages = [creeer_zaak(identificatie=r.zaak, referentienummer=r.ref) for r in rounds]
    resends: list[dict[str, Any]] = []
    kill_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env_base = {"STUF_BRIDGE_DEFAULT_RSIN": RSIN, "STUF_BRIDGE_RECOVERY": '{"settle_seconds": 2}'}
        with running_gateway(root / "zgw", command=("zgw", "serve"), timeout=180) as zgw_url, \
                SlowProxy(zgw_url) as proxy:
            env = {**env_base, "STUF_BRIDGE_ZGW_URL": proxy.url}
            for number in range(count + 1):
                pids: list[int] = []
                with running_gateway(root / "gateway", env, pid=pids, timeout=180) as url:
                    if number > 0:
                        started = time.monotonic()
                        response = await asyncio.to_thread(_post, url, messages[number - 1])
                        resends.append({"round": number - 1, "seconds": round(time.monotonic() - started, 2),
                                        "answer": berichtcode(response) if response is not None
                                        and response.status_code == 200 else "fault"})
                    if number < count:
                        after = chance.uniform(0.05, 1.2)
                        sender = threading.Thread(target=_post, args=(url, messages[number]), daemon=True)
                        sender.start()
                        await asyncio.sleep(after)
                        os.kill(pids[0], signal.SIGKILL)
                        sender.join(30)
                        kill_times.append(round(after, 2))
            settings = with_demo_profile(load_settings(None, zgw_url=zgw_url, default_rsin=RSIN, data_dir=root))
            async with ZgwClients.from_settings(settings) as zgw:
                found = [await snapshot(zgw, scenario, r) for r in rounds]
    complete = {"zaken": 1, "rollen": [("Initiator", "999993653", "Visser")], "statussen": ["Ontvangen"],
                "zaakeigenschappen": 1}
    left = sum(any(f.get(k) != v for k, v in complete.items()) for f in found)
    return {"rounds": count, "resend_bv03": sum(r["answer"] == "Bv03" for r in resends),
            "resend_seconds_max": max((r["seconds"] for r in resends), default=0),
            "resend_seconds_median": statistics.median(r["seconds"] for r in resends) if resends else 0,
            "left_after_resend": left, "duplicates": sum(f.get("zaken", 0) > 1 for f in found),
            "kill_after_seconds": kill_times, "resends": resends}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the fault matrix (every position each)")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 rounds (0: none)")
    parser.add_argument("--cost-messages", type=int, default=50, help="messages per journal-cost block")
    parser.add_argument("--cost-blocks", type=int, default=12, help="journal-cost blocks each, on and off")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "recovery.json")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    def save() -> None:  # after each part: a long run that fails later keeps what it measured
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")

    if args.cost_messages:
        result["journal_cost"] = asyncio.run(journal_cost(args.cost_messages, args.cost_blocks))
        save()
        print(json.dumps({k: v for k, v in result["journal_cost"].items() if k not in ("on", "off")}), flush=True)
    if args.rounds:
        result["fault_matrix"] = asyncio.run(fault_matrix(args.rounds))
        save()
    if args.kills:
        result["kill"] = asyncio.run(kills(args.kills))
        print(json.dumps({k: v for k, v in result["kill"].items() if k != "resends"}), flush=True)
    save()
    print(f"written to {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
