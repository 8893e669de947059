"""The gateway's own paths close what they open: the spool of a document that is refused halfway, and the listening
socket of a start that a broken mapping file stops. (pytest ignores ResourceWarnings elsewhere, since the garbage
collector reports them at random moments; these tests record them on purpose, around the paths that matter.)"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from stuf_bridge.cli import main
from stuf_bridge.content import Content
from stuf_bridge.errors import MessageError
from stuf_bridge.gateway import Gateway
from stuf_bridge.operations import MessageContext
from stuf_bridge.pipeline.read import Read
from stuf_bridge.settings import load_settings
from stuf_bridge.store import create_store
from stuf_bridge.stuf.namespaces import ZKN
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas
from tests.operations import document_messages as dm


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


async def read_every_document(ctx: MessageContext) -> None:
    """As a document flow does: the content of each inhoud (spooled while streaming, else decoded now)."""
    for element in ctx.message.iter(f"{{{ZKN}}}inhoud"):
        ctx.content(element)


@pytest.mark.parametrize("stream_above", [0, 1 << 30], ids=["streamed", "whole"])
@pytest.mark.parametrize("inhoud", ["QUJD!A==", "QUJD" * 1000], ids=["malformed", "above-the-limit"])
async def test_a_document_refused_by_the_gateway_leaves_no_open_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resource_warnings: list[warnings.WarningMessage],
        stream_above: int, inhoud: str) -> None:
    monkeypatch.setattr(Read, "stream_above", stream_above)
    settings = load_settings(None, data_dir=tmp_path, max_document_bytes=1000)
    store = create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await store.open()
    try:
        gateway = Gateway(settings, store, Schemas.from_settings(settings),
                          handlers={"voegZaakdocumentToe": read_every_document})
        body, headers = dm.voeg_zaakdocument_toe(inhoud=inhoud)
        reply = await gateway.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                                     soap_action=headers["SOAPAction"])
    finally:
        await store.close()
    assert (reply.fault_code, reply.fault_reason) == (
        "StUF055", "base64-invalid" if inhoud.startswith("QUJD!") else "document-above-limit")
    del reply, gateway
    assert unclosed(resource_warnings) == []


def test_a_start_stopped_by_a_broken_mapping_closes_its_socket(
        tmp_path: Path, resource_warnings: list[warnings.WarningMessage]) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "zaak.yaml").write_text(
        "mappings:\n  - entity: ZAK\n    rules:\n      - {stuf: omschrijving, zgw: omschrijving, convert: nope}\n")
    assert main(["serve", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path), "--port", "0"]) == 2
    assert [text for text in unclosed(resource_warnings) if "socket" in text] == []
