"""The gateway with the embedded ZGW backend, seeded with the sample catalogue (``catalogue.yaml``) instead of the
demo catalogue, and the sample mapping overlay (``mappings/``): the backend the sample suites expect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw_embedded import seed

from ..operations.conftest import Harness, running_harness

HERE = Path(__file__).resolve().parent
CATALOGUE = HERE / "catalogue.yaml"
MAPPINGS = HERE / "mappings"


@pytest_asyncio.fixture
async def sample_harness(make_settings: Callable[..., Settings], schemas: Schemas) -> AsyncIterator[Harness]:
    """Like tests/operations' ``harness``, but the store holds the sample catalogue before start-up (so the demo
    catalogue is not loaded) and the profiles of ``mappings/profiles.yaml`` apply. Open Formulieren's test
    configuration sends zender/organisatie 'zender_organisatie-N', no gemeentecode: identifiers use 1900, as a
    deployment serving such a client configures (default_gemeentecode)."""
    settings = make_settings(mappings_dir=MAPPINGS, default_gemeentecode="1900")
    seed(settings.data_dir, CATALOGUE)
    async with running_harness(settings, schemas) as harness:
        yield harness


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line on what the sample replay did, step by step (test outcomes count cases)."""
    from .replay import STATS

    if STATS:
        steps = ", ".join(f"{n} {what}" for what, n in sorted(STATS.items()))
        terminalreporter.write_line("sample replay steps: " + steps)
