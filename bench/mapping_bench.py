"""Time the mapping engine on a typical Open Formulieren creeerZaak ZAK object (µs per message).

    python bench/mapping_bench.py [--runs 5000] [--request FILE]

The default body is ``tests/mapping/cases/zds11-openforms-initiator/request.xml`` (the shape Open Formulieren
sends: a zaak with extraElementen, an initiator with an address and a mede-initiator); with ``--shared`` it also
times the real Open Formulieren sample of the shared corpus (``../shared``) when present. Reported: load and compile
time of the default mapping files, and the median/p90 of ``to_zgw("ZAK")``, of the whole object (ZAK + rollen), and
of writing the zaak back as a La01 object (``to_stuf``). The XML is parsed once, outside the timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
try:
    import stuf_bridge  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(REPO / "src"))

from stuf_bridge.mapping import MappingContext, Mappings
from stuf_bridge.stuf.namespaces import ZKN

DEFAULT = REPO / "tests" / "mapping" / "cases" / "zds11-openforms-initiator" / "request.xml"
SHARED = (
    "open-forms-vcr/files/vcr_cassettes/StufZDSPluginPartnersComponentVCRTests/"
    "test_create_zaak_with_partners_as_betrokkene/02-creeerZaak_Lk01.request.xml"
)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(min(200, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.9)] / 1000


def zak_object(path: Path) -> etree._Element:
    root = etree.parse(str(path)).getroot()
    found = root.find(f".//{{{ZKN}}}object")
    if found is None:
        sys.exit(f"{path}: no ZKN:object")
    return found


def bench(label: str, mappings: Mappings, obj: etree._Element, runs: int) -> None:
    context = MappingContext(rsin="002564440", now=datetime(2030, 1, 1, tzinfo=UTC))
    zaak = mappings.to_zgw("ZAK", obj, context=context)
    answer_data = dict(zaak.values, deelzaken=[], hoofdzaak=None)

    def answer() -> None:
        mappings.to_stuf("ZAK", answer_data, etree.Element(f"{{{ZKN}}}object"))

    rows = [
        ("to_zgw ZAK", timed(lambda: mappings.to_zgw("ZAK", obj, context=context), runs)),
        (
            "to_zgw ZAK + rollen",
            timed(
                lambda: (mappings.to_zgw("ZAK", obj, context=context), mappings.rollen_to_zgw(obj, context=context)),
                runs,
            ),
        ),
        ("to_stuf ZAK (La01 object)", timed(answer, runs)),
    ]
    print(f"\n{label}")
    for name, (median, p90) in rows:
        print(f"  {name:<28} median {median:7.1f} µs   p90 {p90:7.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--request", type=Path, default=DEFAULT)
    parser.add_argument("--shared", action="store_true", help="also time the real Open Formulieren sample")
    args = parser.parse_args()

    start = time.perf_counter()
    mappings = Mappings.load()
    print(
        f"load + compile default mappings: {(time.perf_counter() - start) * 1000:.1f} ms "
        f"({len(mappings.entities)} entities)"
    )
    bench(
        str(args.request.relative_to(REPO) if args.request.is_relative_to(REPO) else args.request),
        mappings,
        zak_object(args.request),
        args.runs,
    )
    if args.shared:
        from tests.support.reference import samples_dir

        base = samples_dir()
        if base is None or not (base / SHARED).is_file():
            print("\n(shared sample not found)")
        else:
            from tests.support.reference import load_sample

            sample = load_sample(base / SHARED)
            assert sample is not None
            obj = sample.body.find(f"{{{ZKN}}}object")
            assert obj is not None
            bench(f"shared: {SHARED}", mappings, obj, args.runs)


if __name__ == "__main__":
    main()
