"""One message can never take more than a bounded amount of memory or time outside its documents (issue 18 items 1
and 2: 20 MiB of small elements took 736 MB; 50,000 namespace declarations blocked the gateway for minutes): too many
elements, attributes on one element or namespace declarations is a StUF055 ``too-many-nodes``, whole or streamed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stuf_bridge.gateway import Gateway
from stuf_bridge.pipeline.read import Read
from stuf_bridge.settings import load_settings
from stuf_bridge.soap.xmlparse import MAX_ATTRIBUTES, MAX_ELEMENTS, MAX_NAMESPACES
from stuf_bridge.store import create_store
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.validation import Schemas

ENVELOPE = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"{decl}><soap:Body>'
            '<ZKN:zakLk01 xmlns:ZKN="http://www.egem.nl/StUF/sector/zkn/0310"{attrs}>{inner}</ZKN:zakLk01>'
            '</soap:Body></soap:Envelope>')
SHAPES = {
    "elements": ENVELOPE.format(decl="", attrs="", inner="<ZKN:x/>" * (MAX_ELEMENTS + 1)),
    "attributes": ENVELOPE.format(decl="", attrs="".join(f' a{i}="1"' for i in range(MAX_ATTRIBUTES + 1)),
                                  inner=""),
    "namespaces": ENVELOPE.format(decl="".join(f' xmlns:n{i}="urn:n{i}"' for i in range(MAX_NAMESPACES + 1)),
                                  attrs="", inner=""),
}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = load_settings(None, data_dir=tmp_path)
    store = create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await store.open()
    yield Gateway(settings, store, Schemas.from_settings(settings))
    await store.close()


@pytest.mark.parametrize("stream_above", [0, 1 << 30], ids=["streamed", "whole"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_a_message_of_too_many_nodes_is_refused_quickly(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch, shape: str, stream_above: int) -> None:
    monkeypatch.setattr(Read, "stream_above", stream_above)
    started = time.perf_counter()
    reply = await gateway.handle(Service.ONTVANG_ASYNCHROON, SHAPES[shape].encode(), content_type="text/xml",
                                 soap_action=None)
    assert (reply.fault_code, reply.fault_reason) == ("StUF055", "too-many-nodes")
    assert time.perf_counter() - started < 5


async def test_a_real_message_is_far_below_the_limits(gateway: Gateway) -> None:
    from tests.operations.messages import creeer_zaak

    body, headers = creeer_zaak()
    reply = await gateway.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                                 soap_action=headers["SOAPAction"])
    assert reply.fault_reason != "too-many-nodes"
