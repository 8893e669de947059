"""The documents in docs/ name tests and case folders as evidence; every one of them must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`(tests/[\w./-]+?)(?:::(\w+))?`")


def _references() -> list[tuple[str, str, str | None]]:
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for match in REFERENCE.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, match.group(1), match.group(2)))
    return found


def test_the_docs_name_evidence() -> None:
    assert len(_references()) >= 20


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


@pytest.mark.parametrize(("doc", "path", "test"), _references(), ids=lambda v: str(v))
def test_every_named_test_exists(doc: str, path: str, test: str | None) -> None:
    target = ROOT / path
    assert target.exists(), f"{doc} names {path}, which does not exist"
    if test is not None:
        assert test in _defined_tests(target), f"{doc} names {path}::{test}, which does not exist"
