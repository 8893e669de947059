"""The replay regression suite: the traces in ``tests/replay/traces`` (recorded from the gateway by
``python -m tests.replay.record``) replayed with ``stuf-bridge replay`` against the current code and mappings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TRACES = Path(__file__).resolve().parent / "traces"


def replay(tmp_path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    """``stuf-bridge replay tests/replay/traces`` as a user runs it (a process of its own: the same settings as
    ``serve``, the default RSIN the suite was recorded with)."""
    env = {"STUF_BRIDGE_DEFAULT_RSIN": "002220647", "STUF_BRIDGE_LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "stuf_bridge", "replay", str(TRACES), "--data-dir",
                           str(tmp_path / "data"), *more], env=env, capture_output=True, text=True, timeout=300)


def test_the_recorded_traces_replay_the_same(tmp_path: Path) -> None:
    files = sorted(TRACES.glob("*.json"))
    assert len(files) >= 6  # the suite is there (a missing folder would replay nothing)
    done = replay(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(files)} of {len(files)} the same" in done.stdout
    assert "DIFFERENT" not in done.stdout


def test_a_changed_mapping_fails_replay_with_a_readable_diff(tmp_path: Path) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    # a deployment's overlay that maps the betalingsIndicatie "N.v.t." to "geheel" instead of "nvt"
    (overlay / "zaak.yaml").write_text('tables:\n  betalingsindicatie:\n    codes: {"N.v.t.": geheel}\n',
                                       encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"mappings_dir: {overlay}\n", encoding="utf-8")
    done = replay(tmp_path, "--config", str(config))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "DIFFERENT /" in out and "01-creeerZaak.json (creeerZaak_Lk01 replay-01)" in out
    assert "same      /" in out and "04-geefZaakdetails.json" in out  # the questions are unchanged
    # the diff names the call and shows the field, recorded against replayed
    assert "outgoing calls differ:" in out and "--- recorded" in out and "+++ replayed" in out
    assert "call 1: POST /zgw/zaken/api/v1/zaken -> 201" in out
    assert '-      "betalingsindicatie": "nvt",' in out and '+      "betalingsindicatie": "geheel",' in out
