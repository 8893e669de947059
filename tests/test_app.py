"""The app's start-up and shutdown (lifespan), seen from outside."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from stuf_bridge.settings import Settings


async def test_what_start_up_built_is_kept_out_of_the_garbage_collector(
    make_client: Callable[[Settings], Any], settings: Settings
) -> None:
    """Schemas, mappings and routes live as long as the app: frozen once it has started, so that full collections
    (which paused a busy gateway for tens of milliseconds) do not walk them every time."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    client = await make_client(settings)
    assert gc.get_freeze_count() > 10_000
    assert (await client.get("/health")).status_code == 200
