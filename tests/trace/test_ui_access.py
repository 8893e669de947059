"""Who may read the trace page: loopback without users is open; otherwise a login (Argon2 hashes, viewer and admin
roles) or a trusted proxy header. A wrong or missing login gets 401 and never a trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.trace.config import TraceSettings
from stuf_bridge.security.passwords import hash_password
from stuf_bridge.ui.config import UiSettings, UiUser
from tests.operations.messages import creeer_zaak

from .test_trace import gateway, listed, post

USERS = {"ada": UiUser(password_hash=hash_password("ada-pw"), role="viewer"),
         "bob": UiUser(password_hash=hash_password("bob-pw"), role="admin")}
PROTECTED = ["/ui/", "/ui/api/messages", "/ui/messages/1", "/ui/messages/1.json", "/ui/?q=0363ZK2024-000101"]


def secured(make_settings: Callable[..., Settings], **ui: Any) -> Settings:
    return make_settings(host="0.0.0.0", trace=TraceSettings(flush_seconds=0.05, in_progress_after_seconds=0),
                         ui=UiSettings(**ui))


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/ui/login", data={"username": name, "password": password, "next": "/ui/"})


async def test_without_a_login_nothing_is_shown(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(secured(make_settings, users=USERS), schemas) as client:
        await post(client, creeer_zaak(referentienummer="secret-ref"))
        assert (await login(client, "bob", "bob-pw")).status_code == 303
        await listed(client, outcome="ok")
        client.cookies.clear()
        for path in PROTECTED:
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert "secret-ref" not in answer.text and "0363ZK2024" not in answer.text.replace(
                "q=0363ZK2024-000101", ""), path
        wrong = await login(client, "ada", "not-her-password")
        assert wrong.status_code == 401 and "verkeerd wachtwoord" in wrong.text and "secret-ref" not in wrong.text
        assert (await login(client, "nobody", "ada-pw")).status_code == 401
        client.cookies.set("stuf_bridge_ui", "forged.value.sig", domain="gateway.test", path="/ui")
        assert (await client.get("/ui/")).status_code == 401


async def test_roles_and_logout(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    async with gateway(secured(make_settings, users=USERS), schemas) as client:
        await post(client, creeer_zaak(referentienummer="r"))
        assert (await login(client, "ada", "ada-pw")).headers["location"] == "/ui/"
        [row] = await listed(client, outcome="ok")
        page = await client.get(f"/ui/messages/{row['id']}")
        assert page.status_code == 200 and "ada (viewer)" in page.text and 'id="delete"' not in page.text
        assert (await client.post(f"/ui/messages/{row['id']}/delete")).status_code == 403
        assert (await client.post("/ui/logout")).status_code == 303
        assert (await client.get("/ui/")).status_code == 401
        await login(client, "bob", "bob-pw")
        assert 'id="delete"' in (await client.get(f"/ui/messages/{row['id']}")).text
        assert (await client.post(f"/ui/messages/{row['id']}/delete")).status_code == 303
        assert (await client.get("/ui/api/messages")).json()["total"] == 0


async def test_a_trusted_proxy_header(make_settings: Callable[..., Settings], schemas: Schemas) -> None:
    settings = secured(make_settings, proxy_user_header="X-Forwarded-User", proxy_role_header="X-Forwarded-Role")
    async with gateway(settings, schemas) as client:
        assert (await client.get("/ui/")).status_code == 401
        viewer = await client.get("/ui/", headers={"X-Forwarded-User": "carla"})
        assert viewer.status_code == 200 and "carla (viewer)" in viewer.text
        admin = await client.get("/ui/", headers={"X-Forwarded-User": "dirk", "X-Forwarded-Role": "admin"})
        assert "dirk (admin)" in admin.text


@pytest.mark.parametrize(("host", "users", "status"), [
    ("127.0.0.1", {}, 200),  # loopback only, nobody configured: this machine's users
    ("::1", {}, 200),
    ("0.0.0.0", {}, 401),  # reachable from elsewhere: never open
    ("127.0.0.1", USERS, 401),  # users configured: they log in, also on loopback
])
async def test_when_a_login_is_needed(make_settings: Callable[..., Settings], schemas: Schemas, host: str,
                                      users: dict[str, UiUser], status: int) -> None:
    async with gateway(make_settings(host=host, ui=UiSettings(users=users)), schemas) as client:
        assert (await client.get("/ui/")).status_code == status
