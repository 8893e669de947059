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
