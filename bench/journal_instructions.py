"""Instruction counts of the step journal on creeerZaak: a driver to run under callgrind (load-independent).

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
        python bench/journal_instructions.py --journal on --messages 200
    valgrind --tool=callgrind ... python bench/journal_instructions.py --journal on --messages 0

Sets up as ``bench/recovery_bench.py``'s journal cost does (the zero-latency ZGW stub of
``bench/zaak_overhead_bench.py``, a SQLite store in a temporary directory), warms up with ``--warmup`` messages, then
runs ``--messages`` creeerZaak messages with the journal on or off (``recovery.enabled``). The instructions of the
measured messages are the run's total minus that of a run with ``--messages 0`` (same set-up and warm-up); per
message: divided by ``--messages``. Run with ``PYTHONHASHSEED=0`` so that two runs do the same work.

Prints the measured messages' CPU time per message, user and system (``getrusage``; that one does depend on the
machine's load). ``--profile FILE``: a cProfile of the measured messages too (not under callgrind), for where the
time goes in Python.

``--src DIR``: run the gateway's code from ``DIR`` (the ``src`` folder of another checkout, e.g. ``git worktree add
/tmp/before REV``) under this same harness, to count a creeerZaak of an earlier commit against today's (code from
before the journal has no ``recovery`` settings: ``--journal`` is then ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import resource
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
if "--src" in sys.argv[:-1]:  # before anything imports stuf_bridge
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--src") + 1]).resolve()))
try:
    import stuf_bridge  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(REPO / "src"))

import httpx

import zaak_overhead_bench as overhead  # type: ignore[import-not-found]
from stuf_bridge.gateway import Gateway
from stuf_bridge.mapping import Mappings
from stuf_bridge.store import create_store
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import ZgwClients


async def run(journal: bool, messages: int, warmup: int, profile: str | None) -> None:
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
        settings = base.model_copy(update={"recovery": base.recovery.model_copy(update={"enabled": journal})}) \
            if hasattr(base, "recovery") else base
        try:
            async with ZgwClients.from_settings(settings, None, httpx.MockTransport(stub.handler)) as zgw:
                gateway = Gateway(settings, store, schemas, zgw=zgw, mappings=mappings)
                for i in range(warmup):
                    overhead.check_answer("creeerZaak", await overhead.call(gateway, service, build(i)))
                built = [build(1_000_000 + i) for i in range(messages)]
                profiler = cProfile.Profile() if profile else None
                if profiler is not None:
                    profiler.enable()
                start = resource.getrusage(resource.RUSAGE_SELF)
                for message in built:
                    overhead.check_answer("creeerZaak", await overhead.call(gateway, service, message))
                end = resource.getrusage(resource.RUSAGE_SELF)
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(profile)
                if messages:  # the CPU time of the process (all its threads), user and system, per message
                    print(json.dumps({"journal": "on" if journal else "off", "messages": messages,
                                      "user_ms": (end.ru_utime - start.ru_utime) * 1000 / messages,
                                      "sys_ms": (end.ru_stime - start.ru_stime) * 1000 / messages}))
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journal", choices=("on", "off"), required=True)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", help="write a cProfile of the measured messages to this file")
    parser.add_argument("--src", help="the gateway's code from this folder (another checkout's src)")
    args = parser.parse_args()
    asyncio.run(run(args.journal == "on", args.messages, args.warmup, args.profile))


if __name__ == "__main__":
    main()
