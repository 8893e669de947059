"""The commands ``stuf-bridge migrate``, ``reconcile`` and ``cutover`` (wired in ``cli.py``): the same settings
(environment, config file, flags) and store as ``serve``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import uuid
from pathlib import Path

from ..legacy.errors import LegacyError
from ..recovery.service import journal_for, sweep
from ..settings import Settings
from ..store import StoreError
from ..zgw import CatalogueLookupError, ZgwError
from . import bulk
from .copy import CopyFailed
from .cutover import DEFAULT_MARGIN, Cutover
from .interrupted import resolve_interrupted
from .reconcile import Reconciler, exit_status
from .store import Finding, MigrationStore
from .wiring import runtime

_ERRORS = (StoreError, LegacyError, ZgwError, CatalogueLookupError, CopyFailed, OSError)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser("migrate", help="copy zaken (with their documents) from legacy into ZGW")
    migrate.add_argument("--zaken", required=True, help="file with one zaak identificatie a line; - for stdin")
    migrate.add_argument("--concurrency", type=int, default=4, help="zaken copied at a time (default 4)")
    migrate.add_argument("--report", type=Path, help="report file: .csv or .json (per zaak outcome, reason, ...)")
    migrate.add_argument("--progress-seconds", type=float, default=10.0,
                         help="seconds between plain progress lines when not on a terminal (default 10)")
    reconcile = commands.add_parser("reconcile", help="compare the zaken of a zaaktype in legacy and in ZGW")
    reconcile.add_argument("--zaaktype", help="zaaktype code (isVan/gerelateerde/code); required unless --findings")
    reconcile.add_argument("--open-only", action="store_true", help="only zaken without einddatum")
    reconcile.add_argument("--repair", action="store_true", help="re-sync differing zaken from legacy")
    reconcile.add_argument("--zaken", help="also these zaken (one identificatie a line; - for stdin)")
    reconcile.add_argument("--sizes", action="store_true",
                           help="also compare document sizes (reads every document from legacy once)")
    reconcile.add_argument("--findings", action="store_true",
                           help="list the stored findings (earlier runs, the scheduled reconcile, compare_reads) "
                           "instead of comparing; of --zaaktype when given")
    reconcile.add_argument("--since", type=dt.datetime.fromisoformat, help="with --findings: only those since this "
                           "moment (ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00+01:00)")
    cutover = commands.add_parser("cutover", help="make ZGW the primary of zaaktypen (translate, primary zgw)")
    which = cutover.add_mutually_exclusive_group(required=True)
    which.add_argument("--zaaktype", action="append", help="zaaktype code (repeat for several)")
    which.add_argument("--all", action="store_true", help="every zaaktype")
    which.add_argument("--history", action="store_true", help="list the cut-over audit records")
    cutover.add_argument("--force", action="store_true", help="cut over although a check fails (needs --reason)")
    cutover.add_argument("--reason", help="why (written in the audit record)")
    cutover.add_argument("--actor", help="who (default: the OS user)")
    cutover.add_argument("--margin", type=int, default=DEFAULT_MARGIN,
                         help=f"identifier sequences above the highest number plus this (default {DEFAULT_MARGIN})")
    for sub in (migrate, reconcile, cutover):
        sub.add_argument("--data-dir", type=Path, help="directory of the store (STUF_BRIDGE_DATA_DIR, default ./data)")
        sub.add_argument("--config", type=Path, help="YAML config file (STUF_BRIDGE_CONFIG)")
        sub.add_argument("--zgw-url", help="base URL of an external ZGW backend (STUF_BRIDGE_ZGW_URL)")


def _read(source: str) -> list[str]:
    if source == "-":
        return bulk.read_list(sys.stdin)
    return bulk.read_list(Path(source).read_text(encoding="utf-8").splitlines())


def run(settings: Settings, args: argparse.Namespace) -> int:
    from ..cli import configure_logging

    configure_logging(settings)  # the log goes to stderr; stdout has the progress, the findings, the outcome
    try:
        if args.command == "migrate":
            return asyncio.run(_migrate(settings, args))
        if args.command == "reconcile":
            return asyncio.run(_reconcile(settings, args))
        return asyncio.run(_cutover(settings, args))
    except _ERRORS as exc:
        print(f"stuf-bridge {args.command}: {exc}", file=sys.stderr)
        return 2


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    zaken = _read(args.zaken)
    if args.report is not None and args.report.suffix.lower() not in (".csv", ".json"):
        print("stuf-bridge migrate: --report must end in .csv or .json", file=sys.stderr)
        return 2
    async with runtime(settings) as rt:
        copier = rt.copier()
        # copies an earlier run (or a gateway) left half-done when its process died: their messages resolved in the
        # step journal, then the copies undone, whichever zaken this run copies (interrupted.py); a zaak of this
        # list is then copied anew
        journal = journal_for(rt.store, lease_seconds=settings.recovery.lease_seconds)
        await journal.register()
        await sweep(rt.store, rt.zgw, journal, settle_seconds=settings.recovery.settle_seconds, wait=True)
        for undone in await resolve_interrupted(rt.store, rt.zgw, owner=copier.owner):
            if undone.outcome in ("cleared", "nothing"):
                print(f"migrate: interrupted copy of {undone.identificatie} undone", file=sys.stderr)
        progress = bulk.progress_for(sys.stdout, len(zaken), args.progress_seconds)
        status, lines = await bulk.migrate(copier, zaken, concurrency=args.concurrency, report=args.report,
                                           progress=progress, on_interrupt=bulk.sigint_handler)
    for line in lines:
        if line.outcome in ("failed", "not-in-legacy"):
            print(f"failed {line.identificatie}: {line.reason}", file=sys.stderr)
    return status


async def _findings(settings: Settings, args: argparse.Namespace) -> int:
    since = args.since
    if since is not None and since.tzinfo is None:
        since = since.astimezone()  # a moment without offset: local time
    async with runtime(settings) as rt:
        found = await MigrationStore(rt.store).findings(zaaktype=args.zaaktype, since=since)
    for finding in found:
        print(f"{finding.at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ} {finding.source:13} {finding.line()}")
    print(f"findings: {len(found)}")
    return 1 if found else 0


async def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    if args.findings:
        return await _findings(settings, args)
    if not args.zaaktype:
        print("stuf-bridge reconcile: --zaaktype is required (or --findings)", file=sys.stderr)
        return 2
    listed = _read(args.zaken) if args.zaken else []
    async with runtime(settings) as rt:
        reconciler = Reconciler(rt, rt.copier() if args.repair else None, sizes=args.sizes)
        results = await reconciler.reconcile(args.zaaktype, open_only=args.open_only, repair=args.repair,
                                             listed=listed)
        run_id = uuid.uuid4().hex
        ledger = MigrationStore(rt.store)
        await ledger.record_findings([Finding("reconcile", run_id, result.state, result.identificatie, args.zaaktype,
                                              result.fields, detail=result.repaired)
                                      for result in results if result.state != "in-sync"])
        reads = await ledger.findings(source="compare-reads", zaaktype=args.zaaktype)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.state] = counts.get(result.state, 0) + 1
        if result.state != "in-sync" or result.repaired:
            print(result.line())
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "geen zaken gevonden"
    print(f"reconcile {args.zaaktype}: {len(results)} zaken: {summary}")
    if reads:
        print(f"compare_reads recorded {len(reads)} read(s) answered differently for {args.zaaktype} "
              "(stuf-bridge reconcile --findings)")
    return exit_status(results)


async def _cutover(settings: Settings, args: argparse.Namespace) -> int:
    if args.force and not args.reason:
        print("stuf-bridge cutover: --force needs --reason (it is written in the audit record)", file=sys.stderr)
        return 2
    async with runtime(settings) as rt:
        if args.history:
            for record in await MigrationStore(rt.store).audit_records():
                print(json.dumps({"id": record.id, "at": record.at.isoformat(), "zaaktypen": record.zaaktypen,
                                  "forced": record.forced, "reason": record.reason, "actor": record.actor,
                                  "details": record.details}, ensure_ascii=False))
            return 0
        outcome = await Cutover(rt).run(None if args.all else args.zaaktype, force=args.force, reason=args.reason,
                                        actor=args.actor, margin=args.margin)
    for line in outcome.outbox + outcome.differences:
        print(line)
    if not outcome.done:
        print(f"cutover refused: {'; '.join(outcome.refused)} (--force --reason ... to cut over anyway)",
              file=sys.stderr)
        return 1
    for sequence, value in outcome.sequences.items():
        print(f"sequence {sequence} = {value}")
    forced = f" (forced: {'; '.join(outcome.refused)})" if outcome.refused else ""
    print(f"cutover {', '.join(outcome.zaaktypen)}: translate, primary zgw; audit record {outcome.audit_id}{forced}")
    return 0
