"""The table "finding → fix → test" in docs/security.md names tests that exist: every file, and every test function
named with ``file::name`` or ``::name`` after a file, is there, and every finding 1–14 has a row with a test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> dict[int, str]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Hardening findings (issue 18)", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows[int(cells[0])] = cells[3]
    return rows


def test_every_finding_has_a_row_with_a_test() -> None:
    rows = _rows()
    assert sorted(rows) == list(range(1, 15))
    assert all("tests/" in cell for cell in rows.values()), rows


def test_every_test_named_in_the_table_exists() -> None:
    missing = []
    for cell in _rows().values():
        current: Path | None = None
        for token in re.findall(r"`([^`]+)`", cell):
            path, _, name = token.partition("::")
            if path:
                current = ROOT / path if path.startswith(("tests/", "bench/")) else ROOT / "tests/cases/faults" / path
                if not current.exists():
                    missing.append(token)
                    continue
            if name and (current is None or not re.search(rf"def {re.escape(name)}\(", current.read_text("utf-8"))):
                missing.append(f"{current}::{name}")
    assert not missing, missing
