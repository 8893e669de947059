"""The gateway's own paths close what they open: the spool of a document that is refused halfway, and the listening
socket of a start that a broken mapping file stops. (pytest shows ResourceWarnings rather than failing on them, since
the garbage collector reports them at random moments; these tests collect them on purpose, where they belong.)"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from stuf_bridge.cli import main
from stuf_bridge.content import Content
from stuf_bridge.errors import MessageError


@pytest.fixture
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught


def unclosed(caught: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("text", ["QUJD!A==", "QUJ", "QQ==QQ=="], ids=["bad-character", "bad-length", "after-padding"])
def test_a_refused_document_leaves_no_open_spool(text: str, resource_warnings: list[warnings.WarningMessage]) -> None:
    with pytest.raises(MessageError) as refused:
        Content.from_base64(text)
    assert refused.value.reason == "base64-invalid"
    del refused
    assert unclosed(resource_warnings) == []


def test_a_document_above_the_limit_leaves_no_open_spool(resource_warnings: list[warnings.WarningMessage]) -> None:
    with pytest.raises(MessageError) as refused:
        Content.from_base64("QUJD" * 100, max_bytes=10)
    assert refused.value.reason == "document-above-limit"
    del refused
    assert unclosed(resource_warnings) == []


def test_a_start_stopped_by_a_broken_mapping_closes_its_socket(
        tmp_path: Path, resource_warnings: list[warnings.WarningMessage]) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "zaak.yaml").write_text(
        "mappings:\n  - entity: ZAK\n    rules:\n      - {stuf: omschrijving, zgw: omschrijving, convert: nope}\n")
    assert main(["serve", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path), "--port", "0"]) == 2
    assert [text for text in unclosed(resource_warnings) if "socket" in text] == []
