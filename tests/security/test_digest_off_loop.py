"""Finding 1: a large message's resend digest is computed in a worker thread, so that the event loop (every other
client) does not wait for it; a small one's inline (a thread hop costs more than its walk). Same digest either way."""

from __future__ import annotations

import asyncio
import threading

import pytest
from lxml import etree

from stuf_bridge.pipeline import claim


def _message(elements: int) -> etree._Element:
    root = etree.Element("{urn:x}bericht")
    for i in range(elements):
        etree.SubElement(root, "{urn:x}e", a=str(i)).text = "tekst"
    return root


@pytest.mark.parametrize(("elements", "threaded"), [(10, False), (claim.DIGEST_INLINE_ELEMENTS + 1, True)])
async def test_large_messages_are_digested_off_the_loop(monkeypatch: pytest.MonkeyPatch, elements: int,
                                                        threaded: bool) -> None:
    seen: list[str] = []
    real = claim.digest

    def recording(*args: object) -> str:
        seen.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(claim, "digest", recording)
    message = _message(elements)
    assert await claim.digest_off_loop(message) == real(message)
    on_loop = seen[0] == threading.main_thread().name
    assert on_loop is not threaded


async def test_the_loop_keeps_ticking_while_a_large_message_is_digested() -> None:
    message = _message(60_000)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        await claim.digest_off_loop(message)
    finally:
        ticker.cancel()
    assert ticks > 1  # inline, the loop would not have run the ticker at all
