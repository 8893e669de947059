"""Side by side for moving the history, over real HTTP: a second stuf-bridge in translate mode on its own embedded
backend is the legacy zaaksysteem (its archive made with ordinary creeerZaak and voegZaakdocumentToe messages), a
ZGW backend of its own (``stuf-bridge zgw serve``) is the target, and the gateway under test runs as ``stuf-bridge
serve`` (and the commands as ``stuf-bridge migrate|reconcile|cutover``) with the same settings from the
environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from stuf_bridge.zgw.auth import JwtAuth
from tests.operations import document_messages as dm
from tests.operations import messages as zm
from tests.support.server import running_gateway

AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")
SERVICES = ("BeantwoordVraag", "OntvangAsynchroon", "VrijeBerichten")
FAST_OUTBOX = {"poll_seconds": 0.1, "backoff_base_seconds": 0.2, "backoff_max_seconds": 1, "lease_seconds": 30}
START = 120.0  # a loaded machine starts a gateway slowly


def post(url: str, service: str, message: tuple[bytes, dict[str, str]]) -> httpx.Response:
    return httpx.post(f"{url}/zds/{service}", content=message[0], headers=message[1], timeout=120)


@dataclass
class Sides:
    legacy: str  # base URL of the legacy stuf-bridge
    zgw: str  # base URL of the target ZGW backend (zaken at {zgw}/zaken/api/v1)
    root: Path
    made: set[str] = field(default_factory=set)

    def endpoints(self) -> dict[str, str]:
        return {service: f"{self.legacy}/zds/{service}" for service in SERVICES}

    def env(self, routing: dict[str, object] | None = None, **extra: str) -> dict[str, str]:
        """The gateway's settings (for ``serve`` and the commands alike)."""
        env = {
            "STUF_BRIDGE_ZGW_URL": self.zgw,
            "STUF_BRIDGE_DEFAULT_RSIN": "002220647",
            "STUF_BRIDGE_ORGANISATIE": "0363",
            "STUF_BRIDGE_LEGACY": json.dumps({"endpoints": self.endpoints(), "timeout": 60}),
            "STUF_BRIDGE_OUTBOX": json.dumps(FAST_OUTBOX),
            **extra,
        }
        if routing is not None:
            env["STUF_BRIDGE_ROUTING"] = json.dumps(routing)
        return env

    def legacy_zaak(self, identificatie: str, *, documents: int = 0, size: int = 2000, statussen: int = 2,
                    omschrijving: str = "Melding losliggende stoeptegels", zaak_relations: str = "",
                    zaaktype: str = "MELDING-OR", dct: str = "Melding") -> None:
        """A zaak in the legacy archive (with ``documents`` documents of ``size`` bytes)."""
        st = "".join(zm.status(name, f"2024110{i + 5}", str(i + 1))
                     for i, name in enumerate(("Ontvangen", "In behandeling")[:statussen]))
        answer = post(self.legacy, "OntvangAsynchroon", zm.creeer_zaak(
            identificatie=identificatie, referentienummer=f"c-{identificatie}", statussen=st,
            relations=zm.ADRES, omschrijving=omschrijving, zaak_relations=zaak_relations, zaaktype=zaaktype))
        assert answer.status_code == 200, answer.text
        for n in range(documents):
            content = (f"{identificatie}-{n}-".encode() * (size // 8 + 1))[:size]
            answer = post(self.legacy, "OntvangAsynchroon", dm.voeg_zaakdocument_toe(
                identificatie=f"{identificatie}-D{n}", zaak=identificatie, content=content, dct=dct,
                referentienummer=f"d-{identificatie}-{n}"))
            assert answer.status_code == 200, answer.text
        self.made.add(identificatie)

    def zgw_get(self, api: str, resource: str, **params: str) -> list[dict[str, object]]:
        answer = httpx.get(f"{self.zgw}/{api}/api/v1/{resource}", params=params, auth=AUTH,
                           headers={"Accept-Crs": "EPSG:4326"}, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        return list(body["results"] if isinstance(body, dict) else body)

    def zaken(self, identificatie: str) -> list[dict[str, object]]:
        return [z for z in self.zgw_get("zaken", "zaken", identificatie=identificatie)
                if z["identificatie"] == identificatie]

    def documenten(self, zaak_url: str) -> list[str]:
        """The identificaties of the documents linked to a zaak in ZGW."""
        links = self.zgw_get("zaken", "zaakinformatieobjecten", zaak=zaak_url)
        names = []
        for link in links:
            eio = httpx.get(str(link["informatieobject"]), auth=AUTH, timeout=60).json()
            names.append(str(eio["identificatie"]))
        return sorted(names)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    root = tmp_path_factory.mktemp("sides")
    with running_gateway(root / "legacy", timeout=START) as legacy, \
            running_gateway(root / "zgw", command=("zgw", "serve"), timeout=START) as zgw:
        yield Sides(legacy, zgw, root)


def command(sides_env: dict[str, str], data_dir: Path, *args: str, timeout: float = 600,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``stuf-bridge <args>`` as a process with the gateway's settings; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUF_BRIDGE_")}
    env.update({"STUF_BRIDGE_LOG_LEVEL": "WARNING", **sides_env})
    return subprocess.run([sys.executable, "-m", "stuf_bridge", *args, "--data-dir", str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=timeout, input=stdin)
