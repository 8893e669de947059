"""Our XSDs (``xsd/``) against the official ones, over the whole rendered sample corpus of ``../shared``.

1. Every request body the official schemas accept must be accepted by ours (``[requests-…]``).
2. Every answer (La01, Du02, Bv0x, Fo0x) the official schemas accept must be accepted by ours (``[answers-…]``).
3. Mutations of the officially valid request bodies (a dropped required element, a wrong enumeration value, an
   over-long string, two siblings swapped) that the official schemas reject must be rejected by ours too.

Figures are printed and written to ``bench/results/xsd-agreement.latest.json`` (git-ignored; the recorded figures are
``xsd-agreement.json``). The module skips without ``../shared``; a dialect whose entry schema does not exist yet is
skipped with that reason.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import mutations, official, ours, reference
from tests.support.reference import Dialect, Role, Sample, Skipped

reference.require_shared()

pytestmark = pytest.mark.reference

DIALECTS: tuple[Dialect, ...] = ("zds11", "zds12", "stuf")
REQUEST_DIALECTS: tuple[Dialect, ...] = ("zds11", "zds12")  # StUF bodies (Bv0x/Fo0x) count as answers


def _skip_unless_ours(dialect: Dialect) -> pytest.MarkDecorator:
    """Skip a dialect without an entry schema at collection time: then a run where none exists yet does not load
    the official schemas either."""
    reason = ours.missing_reason(dialect)
    return pytest.mark.skipif(reason is not None, reason=str(reason))


ACCEPTANCE_CASES = [
    pytest.param(role, d, id=f"{label}-{d}", marks=_skip_unless_ours(d))
    for role, label, dialects in (("request", "requests", REQUEST_DIALECTS), ("response", "answers", DIALECTS))
    for d in dialects
]
MUTATION_CASES = [pytest.param(d, id=d, marks=_skip_unless_ours(d)) for d in REQUEST_DIALECTS]
RESULTS = reference.REPO_ROOT / "bench" / "results" / "xsd-agreement.latest.json"
MUTATIONS_PER_KIND = 1  # per body: one of each kind
MUTATION_CAP = 1200  # over the whole corpus; bodies beyond it are sampled deterministically
MUTATION_SEED = 20170401
SHOWN = 40  # disagreements listed in a failure message


@dataclass(repr=False)
class Corpus:
    """The parsed corpus with the official verdict of every body."""

    samples: list[Sample]
    skipped: list[Skipped]
    official: dict[str, list[str]]  # sample name → official errors

    def bodies(self, dialect: Dialect, role: Role) -> list[Sample]:
        return [s for s in self.samples if s.dialect == dialect and s.role == role]

    def officially_valid(self, dialect: Dialect, role: Role) -> list[Sample]:
        return [s for s in self.bodies(dialect, role) if not self.official[s.name]]


@dataclass(repr=False)
class Summary:
    """Agreement figures, filled in by the tests and written once at the end of the module."""

    figures: dict[str, Any] = field(default_factory=dict)

    def section(self, *keys: str) -> dict[str, Any]:
        node = self.figures
        for key in keys:
            node = node.setdefault(key, {})
        return node


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[Summary]:
    result = Summary()
    yield result
    _write(result, request.config)


@pytest.fixture(scope="module")
def corpus(summary: Summary) -> Corpus:
    started = time.perf_counter()
    skipped: list[Skipped] = []
    samples = [s for s in reference.iter_samples(skipped=skipped) if s.dialect is not None]
    try:
        for dialect in DIALECTS:
            official.validator(dialect)
    except FileNotFoundError as exc:
        pytest.skip(f"official schema not found: {exc}")
    verdicts = {s.name: official.official_errors(s.body) for s in samples}
    corpus = Corpus(samples, skipped, verdicts)
    for s in samples:
        node = summary.section("bodies", s.role + "s", s.source, s.dialect or "?")
        node["bodies"] = node.get("bodies", 0) + 1
        node["official_valid"] = node.get("official_valid", 0) + (not verdicts[s.name])
        node.setdefault("ours_accepted", None)
    summary.figures["skipped_files"] = [f"{s.name}: {s.reason}" for s in skipped]
    summary.section("seconds")["corpus_and_official_verdicts"] = round(time.perf_counter() - started, 2)
    return corpus


def _require_ours(dialect: Dialect) -> None:
    reason = ours.missing_reason(dialect)
    if reason is not None:
        pytest.skip(reason)


def _acceptance(corpus: Corpus, summary: Summary, dialect: Dialect, role: Role) -> list[str]:
    """Officially valid bodies of (dialect, role) that our schema rejects, as 'file: first error' lines."""
    _require_ours(dialect)
    bodies = corpus.officially_valid(dialect, role)
    if not bodies:
        pytest.skip(f"no officially valid {role} bodies in dialect {dialect}")
    disagreements: list[str] = []
    accepted: Counter[str] = Counter()
    for s in bodies:
        errors = ours.our_errors(s.body)
        if errors:
            disagreements.append(f"{s.name}: {errors[0]}")
        else:
            accepted[s.source] += 1
    also_rejected: Counter[str] = Counter()
    for s in corpus.bodies(dialect, role):
        if corpus.official[s.name] and ours.our_errors(s.body):
            also_rejected[s.source] += 1
    for source in {s.source for s in corpus.bodies(dialect, role)}:
        node = summary.section("bodies", role + "s", source, dialect)
        node["ours_accepted"] = accepted[source]
        node["official_invalid_ours_rejected"] = also_rejected[source]  # reported, not asserted
    return disagreements


def _fail_message(what: str, total: int, lines: list[str]) -> str:
    shown = "\n".join(f"  {line}" for line in lines[:SHOWN])
    more = f"\n  … and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"{len(lines)} of {total} {what}:\n{shown}{more}"


@pytest.mark.parametrize(("role", "dialect"), ACCEPTANCE_CASES)
def test_officially_valid_bodies_are_accepted_by_ours(
    corpus: Corpus, summary: Summary, role: Role, dialect: Dialect
) -> None:
    disagreements = _acceptance(corpus, summary, dialect, role)
    total = len(corpus.officially_valid(dialect, role))
    assert not disagreements, _fail_message(
        f"officially valid {dialect} {role}s rejected by ours", total, disagreements
    )


@pytest.mark.parametrize("dialect", MUTATION_CASES)
def test_mutations_rejected_by_official_are_rejected_by_ours(
    corpus: Corpus, summary: Summary, dialect: Dialect
) -> None:
    _require_ours(dialect)
    bodies = corpus.officially_valid(dialect, "request")
    if not bodies:
        pytest.skip(f"no officially valid request bodies in dialect {dialect}")
    bodies = _capped(bodies, corpus, dialect)
    schema = official.xmlschema_schema(dialect)
    started = time.perf_counter()
    missed: list[str] = []
    for s in bodies:
        for mutation in mutations.generate(
            s.body, schema, seed=mutations.seed_for(s.name, MUTATION_SEED), per_kind=MUTATIONS_PER_KIND
        ):
            rejected_official = bool(official.official_errors(mutation.body))
            rejected_ours = bool(ours.our_errors(mutation.body)) if rejected_official else None
            _count(summary, s.source, dialect, mutation, rejected_official, rejected_ours)
            if rejected_official and not rejected_ours:
                missed.append(f"{s.name}: {mutation.description}")
    summary.section("seconds")[f"mutations_{dialect}"] = round(time.perf_counter() - started, 2)
    rejected = _rejected_total(summary, dialect)
    assert not missed, _fail_message(f"officially rejected {dialect} mutations accepted by ours", rejected, missed)


def _capped(bodies: list[Sample], corpus: Corpus, dialect: Dialect) -> list[Sample]:
    """This dialect's share of the mutation cap, as whole bodies, sampled deterministically."""
    valid = {d: len(corpus.officially_valid(d, "request")) for d in REQUEST_DIALECTS}
    share = MUTATION_CAP * len(bodies) // max(sum(valid.values()), 1)
    limit = max(share // len(mutations.KINDS), 1)
    if len(bodies) <= limit:
        return bodies
    return sorted(random.Random(MUTATION_SEED).sample(bodies, limit), key=lambda s: s.name)


def _count(
    summary: Summary,
    source: str,
    dialect: Dialect,
    mutation: mutations.Mutation,
    by_official: bool,
    by_ours: bool | None,
) -> None:
    for node in (
        summary.section("mutations", "by_source", source, dialect),
        summary.section("mutations", "by_kind", dialect, mutation.kind),
        summary.section("mutations", "by_position", dialect, mutation.group or "(root)"),
    ):
        node["generated"] = node.get("generated", 0) + 1
        node["rejected_by_official"] = node.get("rejected_by_official", 0) + by_official
        node["rejected_by_ours"] = node.get("rejected_by_ours", 0) + bool(by_ours)


def _rejected_total(summary: Summary, dialect: Dialect) -> int:
    return sum(node["rejected_by_official"] for node in summary.section("mutations", "by_kind", dialect).values())


# --- the summary ------------------------------------------------------------------------------------------------


def _write(summary: Summary, config: pytest.Config) -> None:
    figures = summary.figures
    if not figures:
        return
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["entry_schemas"] = {d: ours.missing_reason(d) is None for d in DIALECTS}
    figures["official_load_seconds"] = {k: round(v, 3) for k, v in official.load_times().items()}
    figures["ours_load_seconds"] = {k: round(v, 3) for k, v in ours.load_times().items()}
    figures["official_roots"] = dict(official.ROOTS)
    figures["ours_roots"] = {d: _shown(ours.entry_path(d)) for d in DIALECTS}
    figures["notes"] = [
        (
            "bodies: per role, source and dialect; ours_accepted counts officially valid bodies our schema accepts "
            "(null: not run); official_invalid_ours_rejected counts officially invalid bodies ours rejects too"
        ),
        "mutations: rejected_by_ours counts only mutations the official schema rejected",
        f"mutation cap {MUTATION_CAP} over the corpus, {MUTATIONS_PER_KIND} per kind per body, seed {MUTATION_SEED}",
        "a run with -k or a skipped dialect writes partial figures",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_ordered(figures), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(figures, config)


def _shown(path: Path) -> str:
    return str(path.relative_to(reference.REPO_ROOT)) if path.is_relative_to(reference.REPO_ROOT) else str(path)


def _ordered(figures: dict[str, Any]) -> dict[str, Any]:
    keys = [
        "generated_at",
        "entry_schemas",
        "official_roots",
        "ours_roots",
        "official_load_seconds",
        "ours_load_seconds",
        "bodies",
        "mutations",
        "seconds",
        "skipped_files",
        "notes",
    ]
    return {k: figures[k] for k in keys if k in figures} | {k: v for k, v in figures.items() if k not in keys}


def _print(figures: dict[str, Any], config: pytest.Config) -> None:
    lines = [f"entry schemas present: {figures['entry_schemas']}"]
    for role, sources in figures.get("bodies", {}).items():
        for source, dialects in sorted(sources.items()):
            for dialect, n in sorted(dialects.items()):
                ours_part = "n/a" if n["ours_accepted"] is None else n["ours_accepted"]
                lines.append(
                    f"{role:9} {source:26} {dialect:6} bodies {n['bodies']:4}  official-valid {n['official_valid']:4}"
                    f"  ours-accepted {ours_part}"
                )
    for source, dialects in sorted(figures.get("mutations", {}).get("by_source", {}).items()):
        for dialect, n in sorted(dialects.items()):
            lines.append(
                f"mutations {source:26} {dialect:6} generated {n['generated']:4}  rejected: official "
                f"{n['rejected_by_official']:4}, ours {n['rejected_by_ours']:4}"
            )
    for dialect, kinds in sorted(figures.get("mutations", {}).get("by_kind", {}).items()):
        for kind, n in sorted(kinds.items()):
            lines.append(
                f"mutations {'(all sources)':26} {dialect:6} {kind:15} generated {n['generated']:4}  rejected: "
                f"official {n['rejected_by_official']:4}, ours {n['rejected_by_ours']:4}"
            )
    lines.append(f"written to {_shown(RESULTS)}")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        if reporter is not None:
            reporter.write_line("")
            reporter.write_sep("-", "xsd agreement")
            for line in lines:
                reporter.write_line(line)
        else:
            print("\n".join(lines))
