"""A message cancelled because the server's shutdown grace period ended (``stopping.py``) is answered with a StUF
fault that says the gateway stops and a resend is safe; its claim is released, so the resend is processed anew. Any
other cancellation passes through unchanged. (Over HTTP, with a real process: ``tests/test_processes.py``.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from stuf_bridge import stopping
from stuf_bridge.gateway import Gateway
from stuf_bridge.pipeline import Exchange, Mode, Route
from stuf_bridge.settings import load_settings
from stuf_bridge.store import Store, create_store
from stuf_bridge.stuf.namespaces import STUF
from stuf_bridge.stuf.registry import Service
from stuf_bridge.stuf.subject import Subject
from stuf_bridge.stuf.validation import Schemas
from tests.operations import messages as zm


class Stuck:
    """A mode handler that hangs until told to answer (a backend that does not answer)."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = asyncio.Event()
        self.hang = True

    async def __call__(self, x: Exchange) -> None:
        self.calls += 1
        self.entered.set()
        if self.hang:
            await asyncio.Event().wait()
        answer = etree.Element(f"{{{STUF}}}Bv03Bericht", nsmap={"StUF": STUF})
        etree.SubElement(answer, f"{{{STUF}}}stuurgegevens")
        x.answer = answer


class Everything:
    async def route(self, operation: Any, stuurgegevens: Any, subject: Subject) -> Route:
        return Route(Mode.REPLICATE, primary="legacy")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    the_store = create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await the_store.open()
    yield the_store
    await the_store.close()
    stopping.reset()


def gateway(tmp_path: Path, store: Store, handler: Stuck) -> Gateway:
    settings = load_settings(None, data_dir=tmp_path)
    return Gateway(settings, store, Schemas.from_settings(settings), router=Everything(),
                   modes={Mode.REPLICATE: handler})


async def send(gw: Gateway) -> Any:
    body, headers = zm.creeer_zaak(referentienummer="stop-1")
    return await gw.handle(Service.ONTVANG_ASYNCHROON, body, content_type=headers["Content-Type"],
                           soap_action=headers["SOAPAction"])


async def test_the_end_of_the_grace_period_answers_a_fault_and_the_resend_is_processed(
    tmp_path: Path, store: Store
) -> None:
    handler = Stuck()
    gw = gateway(tmp_path, store, handler)
    task = asyncio.create_task(send(gw))
    await handler.entered.wait()
    assert stopping.end_grace([task]) == 1
    reply = await task
    assert (reply.status, reply.outcome, reply.fault_code, reply.fault_reason, reply.fault_plek) == (
        500, "fault", "StUF046", "gateway-stopping", "server")
    assert b"stuur het bericht opnieuw" in reply.body
    stopping.reset()
    handler.hang = False
    again = await send(gw)  # the claim was released: processed anew, not a stored answer
    assert (again.outcome, again.replayed, handler.calls) == ("ok", False, 2)


async def test_any_other_cancellation_passes_through(tmp_path: Path, store: Store) -> None:
    handler = Stuck()
    task = asyncio.create_task(send(gateway(tmp_path, store, handler)))
    await handler.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
