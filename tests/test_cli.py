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
    [missing] = [line for line in out.splitlines() if "no roltype for heeftAlsInitiator" in line]
    assert "the zaaktype has: " in missing and "Initiator (initiator)" in missing  # what there is to choose from
    assert "ERROR profile BEZWAAR: fallback resultaat" in out
    assert "ERROR profile ONBEKEND" in out


# --- what an operator meets first: one line and an exit code per start-up failure ----------------------------------


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("stuf-bridge: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_port_in_use_is_one_line_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--data-dir", str(tmp_path)]) == 3
    finally:
        taken.close()
    line = _one_line(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line and "--port" in line


def test_a_data_directory_that_cannot_be_made_is_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["serve", "--port", "0", "--data-dir", str(blocker / "data")]) == 4
    line = _one_line(capsys.readouterr().err)
    assert "data directory" in line and "--data-dir" in line


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://postgres@127.0.0.1:9/nowhere", "Connect call failed"),
    ("mysql://user@127.0.0.1/db", "unsupported store URL"),
])
def test_a_store_that_cannot_be_opened_is_exit_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_DATABASE_URL", url)
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path)]) == 5
    line = _one_line(capsys.readouterr().err)
    assert says in line and "STUF_BRIDGE_DATABASE_URL" in line


@pytest.mark.parametrize("argv", [["serve", "--log-level", "verbose"], ["serve"]])
def test_an_unknown_log_level_is_refused_naming_the_choices(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if argv == ["serve"]:  # from the environment: a configuration error in one line
        monkeypatch.setenv("STUF_BRIDGE_LOG_LEVEL", "verbose")
        assert main(argv) == 2
        line = _one_line(capsys.readouterr().err)
        assert "STUF_BRIDGE_LOG_LEVEL" in line and "'verbose'" in line and "DEBUG, INFO" in line
    else:  # as a flag: argparse refuses it (exit 2) listing the choices
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and "DEBUG" in capsys.readouterr().err


def test_an_unknown_stuf_bridge_variable_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_DATABSE_URL", "postgresql://x@y/z")  # a typo: would silently use SQLite
    monkeypatch.setenv("STUF_BRIDGE_EMBEDDED_JWT_LEEWAY", "5")  # the embedded backend's own: known
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", str(tmp_path / "secret"))  # a *_FILE variable: known
    (tmp_path / "secret").write_text("a-secret-of-enough-length-for-hs256-32b\n")
    main(["zgw", "seed", str(DEMO_CATALOGUE), "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "unknown_variable" in line]
    assert len(warnings) == 1, err
    assert "STUF_BRIDGE_DATABSE_URL (did you mean STUF_BRIDGE_DATABASE_URL?)" in warnings[0]


def test_every_subcommand_has_a_description_and_every_setting_flag_its_variable() -> None:
    import argparse

    from stuf_bridge.cli import describe
    from stuf_bridge.settings import Settings

    parser = argparse.ArgumentParser(prog="t")
    commands = parser.add_subparsers()
    later = commands.add_parser("later", help="a subcommand added later")
    later.add_argument("--port", type=int, help="a port")
    describe(parser)
    assert later.description == "A subcommand added later."
    assert "(STUF_BRIDGE_PORT, default 8080)" in later._actions[-1].help  # type: ignore[operator]

    seen = 0  # the real parser, caught where main() parses
    from stuf_bridge import cli

    captured: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> object:
        captured.append(self)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = capture  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(SystemExit):
            cli.main([])
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]

    def walk(p: argparse.ArgumentParser, name: str) -> None:
        nonlocal seen
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    assert sub.description, f"{name} {sub_name} has no description"
                    seen += 1
                    walk(sub, f"{name} {sub_name}")
            elif action.dest in Settings.model_fields and action.dest != "port":
                assert f"STUF_BRIDGE_{action.dest.upper()}" in (action.help or ""), f"{name} {action.option_strings}"

    walk(captured[0], "stuf-bridge")
    assert seen >= 7


def test_zgw_serve_does_not_take_the_gateways_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from stuf_bridge import cli

    ports: list[int] = []
    monkeypatch.setattr(cli, "serve_zgw", lambda settings: ports.append(settings.port) or 0)
    monkeypatch.setattr(cli, "serve", lambda settings: ports.append(settings.port) or 0)
    assert main(["zgw", "serve"]) == 0 and main(["serve"]) == 0
    assert ports == [cli.ZGW_SERVE_PORT, 8080] and cli.ZGW_SERVE_PORT != 8080


def test_an_unquoted_gemeentecode_is_said_to_need_quotes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "organisaties.yaml").write_text('organisaties:\n  0363: "002564440"\n')
    assert main(["serve", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path), "--port", "0"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert 'organisaties.0363: the code must be quoted, as "0363"' in line and "octal number 243" in line


def test_check_config_reports_an_unreachable_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")
    assert main(["check-config", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR store:" in out and "Connect call failed" in out


def test_check_config_checks_the_defaults_against_every_zaaktype(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "mappings"
    overlay.mkdir()
    (overlay / "profiles.yaml").write_text("profiles:\n  defaults:\n    fallback_resultaat: Bestaat nergens\n")
    assert main(["check-config", "--mappings-dir", str(overlay), "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR profile MELDING-OR: fallback resultaat" in out  # a zaaktype without a profile of its own
    assert "'Bestaat nergens' is no resultaattype of the zaaktype; it has: Opgelost" in out
    assert "geen " not in out and "aanwezig" not in out  # one language: the report's


def test_seeding_again_changes_only_what_the_file_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    own = tmp_path / "own.yaml"
    own.write_text("catalogus:\n  domein: GEM\n  rsin: '002564440'\n  naam: Catalogus van de gemeente\n"
                   "  contactpersoonBeheerNaam: Functioneel beheer\n"
                   "zaaktypen:\n  - identificatie: EERSTE\n    omschrijving: Eerste\n")
    more = tmp_path / "more.yaml"  # no catalogus section: must not reset the catalogue's naam and contact
    more.write_text("zaaktypen:\n  - identificatie: TWEEDE\n    omschrijving: Tweede\n")
    renamed = tmp_path / "renamed.yaml"  # names one key of the catalogus: only that one changes
    renamed.write_text("catalogus:\n  domein: GEM\n  rsin: '002564440'\n  versie: '2'\n"
                       "zaaktypen:\n  - identificatie: TWEEDE\n    omschrijving: Tweede\n")
    data = str(tmp_path / "data")
    for catalogue in (own, more, renamed):
        assert main(["zgw", "seed", str(catalogue), "--data-dir", data]) == 0
    capsys.readouterr()
    assert main(["zgw", "get", "catalogussen", "--data-dir", data]) == 0
    [catalogus] = json.loads(capsys.readouterr().out)
    assert catalogus["naam"] == "Catalogus van de gemeente"
    assert catalogus["contactpersoonBeheerNaam"] == "Functioneel beheer"
    assert catalogus["versie"] == "2" and len(catalogus["zaaktypen"]) == 2
