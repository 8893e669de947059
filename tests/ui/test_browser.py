"""The trace page in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``; ``.ci/run``
installs it) against the real gateway process. Skipped when Chromium or Playwright is absent, except on CI.

``STUF_BRIDGE_UPDATE_SCREENSHOTS=1`` writes the list and message screenshots to ``docs/`` (the README shows them).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stuf_bridge.security.passwords import hash_password
from tests.operations.messages import creeer_zaak
from tests.support.server import running_gateway

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The gateway process with tracing written every 50 ms and two users."""
    users = {"ada": {"password_hash": hash_password("ada-pw"), "role": "admin"}}
    env = {"STUF_BRIDGE_UI": json.dumps({"users": users}),
           "STUF_BRIDGE_TRACE": json.dumps({"flush_seconds": 0.05, "in_progress_after_seconds": 0})}
    with running_gateway(tmp_path / "data", env=env, timeout=60) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            for number in range(3):
                body, headers = creeer_zaak(identificatie=f"0363ZK2024-00030{number}", referentienummer=f"b-{number}")
                assert client.post("/zds/OntvangAsynchroon", content=body, headers=headers).status_code == 200
            body, headers = creeer_zaak(identificatie="0363ZK2024-000300", referentienummer="b-again")
            assert client.post("/zds/OntvangAsynchroon", content=body, headers=headers).status_code == 500
        yield url


def test_list_filter_message_timeline_login_logout(browser: Any, served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    try:
        answer = page.goto(f"{served}/ui/")
        assert answer is not None and answer.status == 401
        expect(page.locator("#login")).to_be_visible()
        assert page.locator("#messages").count() == 0  # no trace before a login

        page.fill("#username", "ada")
        page.fill("#password", "wrong")
        page.click("#login")
        expect(page.locator("#login-error")).to_be_visible()

        page.fill("#username", "ada")
        page.fill("#password", "ada-pw")
        page.click("#login")
        expect(page.locator("header .who")).to_contain_text("ada (admin)")
        rows = page.locator("tr.message")
        for _ in range(100):  # the writer works in batches: reload until all four are there
            if rows.count() >= 4:
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(rows).to_have_count(4)
        expect(rows.first).to_contain_text("b-again")  # newest first
        expect(rows.first.locator(".outcome")).to_contain_text("StUF")
        _shot(page, tmp_path, "trace-list.png")

        page.select_option("#f-outcome", "ok")
        page.click("#filter")
        expect(rows).to_have_count(3)
        page.fill("#f-q", "0363ZK2024-000301")
        page.click("#filter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("b-1")

        rows.first.locator("td a").first.click()
        expect(page.locator("#outcome")).to_contain_text("ok")
        calls = page.locator("#timeline .call")
        assert calls.count() >= 3
        expect(calls.filter(has_text="POST").first).to_contain_text("201")
        expect(page.locator("#request")).to_contain_text("0363ZK2024-000301")
        expect(page.locator("#request")).not_to_contain_text("999993653")  # the initiator's BSN, masked
        expect(page.locator("#answer")).to_contain_text("Bv03")
        _shot(page, tmp_path, "trace-message.png")

        page.locator("a.zaak-link").first.click()
        expect(page.locator("#zaak-filter")).to_have_text("0363ZK2024-000301")
        expect(rows).to_have_count(1)

        page.click("#logout")
        expect(page.locator("#login")).to_be_visible()
        assert page.goto(f"{served}/ui/").status == 401  # type: ignore[union-attr]
        assert re.search(r"b-\d", page.content()) is None
    finally:
        page.close()


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=False)
    if os.environ.get("STUF_BRIDGE_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / name), full_page=False)
