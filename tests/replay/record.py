"""Record the replay regression suite: ``tests/replay/traces/*.json``, one trace per message, from the current gateway.

    python -m tests.replay.record        # from the repository root; rewrites tests/replay/traces/

The messages below go, in order, through one gateway app with the embedded ZGW backend (demo catalogue, empty at
the start, over ASGI: no network, no server), with every message traced and bodies kept whole. Each message's trace
is then exported as ``stuf-bridge trace export`` writes it. ``tests/replay/test_replay_suite.py`` replays the folder
with ``stuf-bridge replay``: a change of the gateway's behaviour (a mapping, a flow) shows up there as a diff.

Record again only when a change of behaviour is meant, and read ``git diff tests/replay/traces`` before committing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from stuf_bridge.settings import Settings, load_settings
from stuf_bridge.trace.config import TraceSettings
from stuf_bridge.trace.tools import export
from stuf_bridge.web.app import create_app
from tests.operations.details_messages import geef_zaakdetails
from tests.operations.document_messages import geef_lijst_zaakdocumenten, voeg_zaakdocument_toe
from tests.operations.messages import creeer_zaak, status
from tests.operations.update_messages import update_zaak, zaak_object

TRACES = Path(__file__).resolve().parent / "traces"
BASE = "http://gateway.replay"
Message = tuple[bytes, dict[str, str]]

#: (file name, endpoint, message): in order, each may rely on the ones before (the zaak the first one creates)
MESSAGES: list[tuple[str, str, Callable[[], Message]]] = [
    ("01-creeerZaak", "OntvangAsynchroon", lambda: creeer_zaak(referentienummer="replay-01")),
    ("02-updateZaak-omschrijving", "OntvangAsynchroon", lambda: update_zaak(
        zaak_object(content="<ZKN:omschrijving>Melding losliggende stoeptegels</ZKN:omschrijving>"),
        zaak_object(content="<ZKN:omschrijving>Stoeptegels liggen los bij de school</ZKN:omschrijving>"),
        referentienummer="replay-02")),
    ("03-voegZaakdocumentToe", "OntvangAsynchroon", lambda: voeg_zaakdocument_toe(referentienummer="replay-03")),
    ("04-geefZaakdetails", "BeantwoordVraag", lambda: geef_zaakdetails(referentienummer="replay-04")),
    ("05-geefLijstZaakdocumenten", "BeantwoordVraag", geef_lijst_zaakdocumenten),
    ("06-creeerZaak-zds12", "OntvangAsynchroon", lambda: creeer_zaak(
        dialect="1.2", identificatie="0363ZK2024-000102", referentienummer="replay-06",
        statussen=status(omschrijving="Ontvangen"))),
]


def settings_for(data_dir: Path) -> Settings:
    """The gateway the suite is recorded with (and replayed against: ``test_replay_suite.py``)."""
    return load_settings(None, data_dir=data_dir, default_rsin="002220647", log_level="WARNING",
                         trace=TraceSettings(flush_seconds=0.05, in_progress_after_seconds=60,
                                             max_body_bytes=10_000_000))


async def record(target: Path = TRACES) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="stuf-bridge-replay-record-") as tmp:
        settings = settings_for(Path(tmp))
        inner: dict[str, httpx.AsyncBaseTransport] = {}

        class Late(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                return await inner["app"].handle_async_request(request)

        app = create_app(settings, embedded_base=f"{BASE}/zgw", zgw_transport=Late())
        inner["app"] = httpx.ASGITransport(app=app)
        references = []
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            for name, endpoint, build in MESSAGES:
                body, headers = build()
                answer = await client.post(f"/zds/{endpoint}", content=body, headers=headers)
                if answer.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {answer.status_code}\n{answer.text[:2000]}")
                references.append((name, body))
        # the app is stopped: its trace writer has written everything
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.json"):
            old.unlink()
        for name, body in references:
            ref = _referentienummer(body)
            found = await export(settings, ref)
            if len(found) != 1:
                raise SystemExit(f"{name}: {len(found)} traces with referentienummer {ref}")
            trace = found[0]
            for key in ("id", "received_at", "duration_ms", "correlation_id"):  # volatile: kept out of the diff
                trace.pop(key, None)
            path = target / f"{name}.json"
            path.write_text(json.dumps(trace, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            written.append(path)
    return written


def _referentienummer(body: bytes) -> str:
    text = body.decode("utf-8")
    start = text.index("referentienummer>") + len("referentienummer>")
    return text[start:text.index("<", start)]


def main() -> int:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    for path in asyncio.run(record()):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
