"""The stuf-bridge command: check-config, zgw seed, and refusing a bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from stuf_bridge.cli import main
from stuf_bridge.zgw_embedded import DEMO_CATALOGUE


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("STUF_BRIDGE_") and key != "STUF_BRIDGE_SHARED":
            monkeypatch.delenv(key)


def test_check_config_on_the_embedded_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "credentials accepted" in out
    assert "zaaktype MELDING-OR" in out
    assert "0 error(s)" in out


def test_check_config_reports_an_unreachable_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--zgw-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("ERROR") == 4  # every API named, with the reason


def test_check_config_reports_refused_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded backend accepts the configured client; a per-API override with a wrong secret is refused.
    monkeypatch.setenv("STUF_BRIDGE_ZGW_CREDENTIALS",
                       '{"zaken": {"client_id": "stuf-bridge", "secret": "wrong-secret-of-enough-length-32b"}}')
    assert main(["check-config", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR zaken:" in out


def test_seed_twice_is_harmless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zgw", "seed", str(DEMO_CATALOGUE), "--data-dir", str(tmp_path)]) == 0
    assert main(["zgw", "seed", str(DEMO_CATALOGUE), "--data-dir", str(tmp_path)]) == 0


def test_seed_reports_a_bad_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("zaaktypen:\n  - omschrijving: zonder identificatie\n")
    assert main(["zgw", "seed", str(bad), "--data-dir", str(tmp_path)]) == 1
    assert "identificatie" in capsys.readouterr().err


def test_bad_configuration_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "invalid configuration" in capsys.readouterr().err


def test_the_listening_socket_is_tcp_so_answers_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is TCP; without it each answer stalls ~40 ms.
    import socket

    from stuf_bridge.cli import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_a_broken_mapping_overlay_stops_the_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "zaak.yaml").write_text(
        "mappings:\n  - entity: ZAK\n    rules:\n      - {stuf: omschrijving, zgw: omschrijving, convert: nope}\n")
    assert main(["serve", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "zaak.yaml" in err and "nope" in err
    assert main(["check-config", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path)]) == 1
    assert "ERROR mapping files" in capsys.readouterr().out


def test_check_config_checks_what_the_profiles_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "profiles.yaml").write_text(
        "profiles:\n"
        "  zaaktypen:\n"
        "    MELDING-OR:\n"
        "      roles: {heeftAlsInitiator: Initiator}\n"
        "      fallback_resultaat: Opgelost\n"
        "    BEZWAAR:\n"
        "      roles: {heeftAlsInitiator: {omschrijving: Aanvrager, generiek: []}}\n"
        "      fallback_resultaat: Bestaat niet\n"
        "    ONBEKEND: {}\n"
    )
    assert main(["check-config", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ok    profile MELDING-OR" in out
    assert "ERROR profile BEZWAAR: no roltype for heeftAlsInitiator → Aanvrager" in out
    assert "ERROR profile BEZWAAR: fallback resultaat" in out
    assert "ERROR profile ONBEKEND" in out
