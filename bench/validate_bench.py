"""Time to validate a typical creeerZaak body: our lxml schemas (``xsd/``) against the official ones.

    python bench/validate_bench.py [--runs 200] [--zds11 FILE] [--zds12 FILE]

The bodies are taken from ``../shared/reference/samples`` (``$STUF_BRIDGE_SHARED``): by default the median-sized
open-forms-vcr ``creeerZaak_Lk01`` request of its main plugin tests (ZDS 1.1, ``ZKN:zakLk01``) and the median-sized
original StUF-Testplatform ``creeerZaak_ZakLk01`` message (ZDS 1.2, rendered from its template). For each dialect
it loads our entry schema with lxml, the official schema with xmlschema (LocationSchemaLoader, lax; as the
agreement tests do) and, for ZDS 1.2, the flattened official "resolved" set with lxml; then it reports load time
and the median (and p90) of N validations of the already parsed body. Parsing is timed separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
try:
    import stuf_bridge  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(REPO / "src"))

from tests.support import official, ours, reference
from tests.support.reference import Dialect, Sample

RESOLVED_ZDS12 = "stuf/zds-1.2-resolved/zds0120_msg_zs-dms_resolved2017.xsd"
# (folder under samples/ that the path must contain, file-name suffix)
DEFAULT_PATTERNS: dict[Dialect, tuple[str, str]] = {
    "zds11": ("open-forms-vcr/files/vcr_cassettes/StufZDSPluginVCRTests/", "creeerZaak_Lk01.request.xml"),
    "zds12": ("zaakmagazijn/stp_creeerZaak/", ".orig.xml"),
}


@dataclass
class Row:
    dialect: str
    validator: str
    load_s: float | None
    median_ms: float | None
    p90_ms: float | None
    valid: str


def typical_body(dialect: Dialect, explicit: Path | None) -> Sample:
    """The given file, or the median-sized default creeerZaak sample of ``dialect``."""
    if explicit is not None:
        sample = reference.load_sample(explicit.resolve())
        if sample is None:
            sys.exit(f"cannot use {explicit}: not well-formed or no body")
        return sample
    folder, suffix = DEFAULT_PATTERNS[dialect]
    base = reference.samples_dir()
    assert base is not None
    candidates = sorted(
        (
            p
            for p in reference.iter_sample_files()
            if p.relative_to(base).as_posix().startswith(folder) and p.name.endswith(suffix)
        ),
        key=lambda p: (p.stat().st_size, p.as_posix()),
    )
    for path in candidates[len(candidates) // 2 :] + candidates[: len(candidates) // 2]:
        sample = reference.load_sample(path)
        if sample is not None and sample.dialect == dialect and not official.official_errors(sample.body):
            return sample
    sys.exit(f"no officially valid *{suffix} sample found in {folder}")


def timed(validate: Callable[[], bool], runs: int) -> tuple[float, float, bool]:
    """Median and p90 in milliseconds over ``runs`` calls, and the (last) verdict."""
    validate()  # warm-up
    times: list[float] = []
    verdict = False
    for _ in range(runs):
        started = time.perf_counter()
        verdict = validate()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))], verdict


def load_lxml(path: Path) -> tuple[etree.XMLSchema, float]:
    started = time.perf_counter()
    schema = etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)))
    return schema, time.perf_counter() - started


def bench_dialect(dialect: Dialect, sample: Sample, runs: int) -> list[Row]:
    rows: list[Row] = []
    tree = etree.ElementTree(sample.body)

    # ours (lxml)
    reason = ours.missing_reason(dialect)
    if reason is not None:
        rows.append(Row(dialect, "ours (lxml)", None, None, None, f"n/a: {reason}"))
    else:
        schema, load_s = load_lxml(ours.entry_path(dialect))
        median, p90, ok = timed(lambda: schema.validate(tree), runs)
        rows.append(Row(dialect, "ours (lxml)", load_s, median, p90, "yes" if ok else "NO"))

    # official (xmlschema, non-resolved); loaded before the body was picked, see main()
    xs = official.xmlschema_schema(dialect)
    official_load_s = official.load_times().get(f"xmlschema:{dialect}")
    median, p90, ok = timed(lambda: xs.is_valid(sample.body), runs)
    rows.append(Row(dialect, "official (xmlschema, lax)", official_load_s, median, p90, "yes" if ok else "NO"))

    # official resolved (lxml), ZDS 1.2 only
    if dialect == "zds12":
        ref = reference.reference_dir()
        assert ref is not None
        schema, load_s = load_lxml(ref / RESOLVED_ZDS12)
        median, p90, ok = timed(lambda: schema.validate(tree), runs)
        rows.append(Row(dialect, "official resolved (lxml)", load_s, median, p90, "yes" if ok else "NO"))
    return rows


def parse_ms(sample: Sample, runs: int) -> float:
    data = etree.tostring(sample.body)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        etree.fromstring(data)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="validations per validator (default 200)")
    parser.add_argument("--zds11", type=Path, help="a ZDS 1.1 body or envelope to use instead of the default")
    parser.add_argument("--zds12", type=Path, help="a ZDS 1.2 body or envelope to use instead of the default")
    args = parser.parse_args(argv)

    if reference.shared_dir() is None:
        print(f"shared reference material not found (set {reference.ENV_VAR} or provide ../shared)", file=sys.stderr)
        return 2

    rows: list[Row] = []
    for dialect, explicit in (("zds11", args.zds11), ("zds12", args.zds12)):
        official.xmlschema_schema(dialect)  # load (and time) it first: picking the body validates with it
        sample = typical_body(dialect, explicit)  # type: ignore[arg-type]
        size = len(etree.tostring(sample.body))
        print(f"{dialect}: {sample.name} ({size} bytes body, parse {parse_ms(sample, args.runs):.3f} ms median)")
        rows.extend(bench_dialect(dialect, sample, args.runs))  # type: ignore[arg-type]

    print()
    print(f"{'dialect':7} {'validator':27} {'load s':>8} {'median ms':>10} {'p90 ms':>8}  valid")
    for r in rows:
        load = f"{r.load_s:8.3f}" if r.load_s is not None else f"{'-':>8}"
        median = f"{r.median_ms:10.3f}" if r.median_ms is not None else f"{'-':>10}"
        p90 = f"{r.p90_ms:8.3f}" if r.p90_ms is not None else f"{'-':>8}"
        print(f"{r.dialect:7} {r.validator:27} {load} {median} {p90}  {r.valid}")
    print(f"\n{args.runs} validations per row of the already parsed body; load = first load in this process.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
