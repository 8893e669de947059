"""Fixtures for the mapping engine tests: the default mappings, a fixed clock, and small XML builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.mapping import MappingContext, Mappings
from stuf_bridge.stuf.namespaces import BG, STUF, XSI, ZDS, ZKN

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXAMPLE_OVERLAY = REPO / "mappings" / "examples" / "gemeente"
NOW = datetime(2024, 11, 24, 12, 0, tzinfo=UTC)
NSMAP = {"ZKN": ZKN, "StUF": STUF, "BG": BG, "xsi": XSI}
NS_DECL = " ".join(f'xmlns:{p}="{u}"' for p, u in {**NSMAP, "ZDS": ZDS}.items())


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return Mappings.load()


@pytest.fixture(scope="session")
def overlaid() -> Mappings:
    return Mappings.load(overlay_dir=EXAMPLE_OVERLAY)


def element(xml: str) -> etree._Element:
    """Parse a fragment that may use the ZKN, StUF, BG, xsi and ZDS prefixes without declaring them."""
    text = xml.strip()
    head, _, rest = text.partition(">")
    closing = "/" if head.endswith("/") else ""
    head = head[:-1] if closing else head
    return etree.fromstring(f"{head} {NS_DECL}{closing}>{rest}")


def ctx(**changes: object) -> MappingContext:
    base = MappingContext(now=NOW, rsin="002564440")
    return base.replace(**changes)


@pytest.fixture
def make_ctx() -> Callable[..., MappingContext]:
    return ctx


def write_mappings(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text, "utf-8")
    return directory
