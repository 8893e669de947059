"""Recovery with tenants, over real HTTP: a gateway process with two municipalities, each with its own ZGW backend
process (as tests/security/test_tenants.py), and a proxy in front of the first tenant's backend that loses the
answer of one write after the backend did it. The message is journalled under its tenant and its recovery — in the
process, and before the resend — looks in that tenant's backend: the resend ends with exactly one complete zaak
there and Bv03, and nothing in the other tenant's backend (nor in the gateway's own)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge.stuf.namespaces import STUF

from ..operations.messages import creeer_zaak
from ..security.test_tenants import SECRETS, Setup, _config
from ..support.server import running_gateway
from .slow_proxy import SlowProxy

ENV = {"STUF_BRIDGE_RECOVERY": '{"settle_seconds": 2}', "STUF_BRIDGE_ZGW_TIMEOUT": "20"}


def _code(answer: httpx.Response) -> tuple[str | None, str | None]:
    root = etree.fromstring(answer.content)
    return root.findtext(f".//{{{STUF}}}berichtcode"), root.findtext(".//{urn:stuf-bridge:fout}reden")


@pytest.mark.parametrize("lost", [1, 4], ids=["zaak", "last-write"])
def test_a_tenants_lost_answer_is_repaired_by_the_resend_in_its_own_backend(tmp_path: Path, lost: int) -> None:
    identificatie, ref = f"0363ZK-TREC-{lost}", f"tenant-recovery-{lost}"
    message = creeer_zaak(identificatie=identificatie, referentienummer=ref)
    with running_gateway(tmp_path / "a", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-a",
                                             "STUF_BRIDGE_ZGW_SECRET": SECRETS["a"]},
                         command=("zgw", "serve"), timeout=120) as a, \
            running_gateway(tmp_path / "b", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-b",
                                                 "STUF_BRIDGE_ZGW_SECRET": SECRETS["b"]},
                            command=("zgw", "serve"), timeout=120) as b, \
            SlowProxy(a, write_delay=0.0, read_delay=0.0) as proxy:
        proxy.lose = {lost}
        config = _config(tmp_path, proxy.url, b)
        with running_gateway(tmp_path / "gw", env={**ENV, "STUF_BRIDGE_CONFIG": str(config)}, timeout=120) as url:
            setup = Setup(url, {"a": a, "b": b}, [])
            first = setup.post("amsterdam-portaal", "OntvangAsynchroon", message)
            assert proxy.writes >= lost, proxy.writes
            assert first.status_code == 500 and _code(first)[0] == "Fo03", first.text  # the write's answer was lost
            resend = setup.post("amsterdam-portaal", "OntvangAsynchroon", message)
            assert resend.status_code == 200 and _code(resend)[0] == "Bv03", resend.text
            zaken_a, zaken_b = setup.zaken("a", identificatie), setup.zaken("b", identificatie)
            assert len(zaken_a) == 1 and zaken_b == [], (zaken_a, zaken_b)
            zaak = zaken_a[0]
            rollen = httpx.get(f"{a}/zaken/api/v1/rollen", params={"zaak": zaak["url"]},
                               headers=_auth("a"), timeout=30).json()
            statussen = httpx.get(f"{a}/zaken/api/v1/statussen", params={"zaak": zaak["url"]},
                                  headers=_auth("a"), timeout=30).json()
            assert _count(rollen) == 1 and _count(statussen) == 1, (rollen, statussen)


def _count(page: object) -> int:
    if isinstance(page, dict):
        return int(page.get("count", len(page.get("results", []))))
    return len(page) if isinstance(page, list) else 0


def _auth(backend: str) -> dict[str, str]:
    import time

    import jwt

    claims = {"iss": "test", "iat": int(time.time()), "client_id": f"gw-{backend}", "user_id": "test",
              "user_representation": "test"}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRETS[backend], algorithm='HS256')}",
            "Accept-Crs": "EPSG:4326"}


async def test_recover_command_resolves_a_tenants_message_in_its_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stuf-bridge recover run`` with tenants: what a gone process left of a tenant's creeerZaak (a bare zaak in
    the tenant's backend process, the journal under the tenant's key) is undone there, with the tenant's
    credentials."""
    import asyncio
    import datetime as dt
    import os

    from stuf_bridge.cli import main
    from stuf_bridge.recovery.journal import Journal, Owner
    from stuf_bridge.settings import load_settings
    from stuf_bridge.store import create_store
    from stuf_bridge.zgw import ZgwClients

    from .test_recovery import _dead_pid

    identificatie, ref = "0363ZK-TREC-CLI", "tenant-recovery-cli"
    for key in [k for k in os.environ if k.startswith("STUF_BRIDGE_")]:  # the developer's own must not leak in
        monkeypatch.delenv(key)
    with running_gateway(tmp_path / "a", env={"STUF_BRIDGE_ZGW_CLIENT_ID": "gw-a",
                                             "STUF_BRIDGE_ZGW_SECRET": SECRETS["a"]},
                         command=("zgw", "serve"), timeout=120) as a:
        config = _config(tmp_path, a, a)
        data = tmp_path / "gw"
        settings = load_settings(config, data_dir=data)
        tenant = settings.tenants[0].settings(settings)

        async def leave() -> str:
            store = create_store(settings.store_url)
            await store.open()
            try:
                gone = Owner()
                gone.pid = _dead_pid()
                dead = Journal(store, gone)
                await dead.register()
                key = ("0363/portaal/|tenant=amsterdam", ref)
                await store.claim_message(*key, "d" * 64, "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                                          owner=gone.id)
                async with ZgwClients.from_settings(tenant) as zgw:
                    zaaktype = await zgw.catalogue.zaaktype("MELDING-OR")
                    zaak = await zgw.zaken.create("zaken", {
                        "identificatie": identificatie, "bronorganisatie": "002220647", "zaaktype": zaaktype["url"],
                        "verantwoordelijkeOrganisatie": "002220647", "startdatum": "2024-11-05",
                        "omschrijving": "half"})
                    writes = dead.for_message(key, "creeerZaak_Lk01", zgw, opened=False)
                    first = await writes.before("POST", zgw.zaken.url("zaken"),
                                                b'{"identificatie": "%s"}' % identificatie.encode())
                    await writes.after(first, "done", b'{"url": "%s"}' % zaak["url"].encode())
                    await writes.before("POST", zgw.zaken.url("rollen"), b'{"zaak": "%s"}' % zaak["url"].encode())
                return str(zaak["url"])
            finally:
                await store.close()

        await leave()
        setup = Setup("", {"a": a}, [])
        assert len(setup.zaken("a", identificatie)) == 1
        monkeypatch.setenv("STUF_BRIDGE_RECOVERY", '{"settle_seconds": 0}')
        code = await asyncio.to_thread(main, ["recover", "run", "--config", str(config), "--data-dir", str(data)])
        ran = capsys.readouterr().out
        assert code == 0, ran
        assert "uitkomst: clean" in ran and "1 message(s) resolved, 0 with something left" in ran, ran
        assert setup.zaken("a", identificatie) == []  # undone in the tenant's backend
