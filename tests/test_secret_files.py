"""Settings that hold secrets read from files (``STUF_BRIDGE_<NAME>_FILE``), as Docker and Kubernetes mount secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stuf_bridge import cli
from stuf_bridge.settings import SecretFilesSource, load_settings


def secret(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_each_secret_setting_is_read_from_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", secret(tmp_path, "zgw", "s3cr3t\n"))
    monkeypatch.setenv("STUF_BRIDGE_DATABASE_URL_FILE", secret(tmp_path, "db", "postgresql://u:p@db:5432/x\r\n"))
    credentials = {"documenten": {"client_id": "drc", "secret": "d-secret"}}
    monkeypatch.setenv("STUF_BRIDGE_ZGW_CREDENTIALS_FILE", secret(tmp_path, "cred", json.dumps(credentials) + "\n"))
    monkeypatch.setenv("STUF_BRIDGE_LEGACY_PASSWORD_FILE", secret(tmp_path, "legacy", "pw with spaces \n"))
    monkeypatch.setenv("STUF_BRIDGE_LEGACY", json.dumps({"username": "gw"}))
    settings = load_settings()
    assert settings.zgw_secret == "s3cr3t"
    assert settings.database_url == "postgresql://u:p@db:5432/x"
    assert settings.zgw_credentials_for("documenten").secret == "d-secret"
    assert settings.zgw_credentials_for("zaken").secret == "s3cr3t"
    assert settings.legacy.username == "gw"  # the file adds the password to what the variable gives
    assert settings.legacy.password is not None
    assert settings.legacy.password.get_secret_value() == "pw with spaces "  # only the line end is stripped


def test_every_file_variable_is_one_of_the_secret_settings() -> None:
    assert set(SecretFilesSource.FILES) == {
        "STUF_BRIDGE_ZGW_SECRET_FILE", "STUF_BRIDGE_DATABASE_URL_FILE", "STUF_BRIDGE_ZGW_CREDENTIALS_FILE",
        "STUF_BRIDGE_LEGACY_PASSWORD_FILE", "STUF_BRIDGE_NOTIFICATIONS_CALLBACK_AUTH_FILE",
        "STUF_BRIDGE_NOTIFICATIONS_CALLBACK_SECRET_FILE", "STUF_BRIDGE_NOTIFICATIONS_NRC_SECRET_FILE",
        "STUF_BRIDGE_NOTIFICATIONS_SNAPSHOT_KEY_FILE",
    }


def test_the_notification_secrets_are_read_from_their_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUF_BRIDGE_NOTIFICATIONS_CALLBACK_AUTH_FILE", secret(tmp_path, "auth", "Token abc\n"))
    monkeypatch.setenv("STUF_BRIDGE_NOTIFICATIONS_CALLBACK_SECRET_FILE", secret(tmp_path, "cb", "cb-secret\n"))
    monkeypatch.setenv("STUF_BRIDGE_NOTIFICATIONS_NRC_SECRET_FILE", secret(tmp_path, "nrc", "nrc-secret\n"))
    monkeypatch.setenv("STUF_BRIDGE_NOTIFICATIONS", json.dumps({"callback_client_id": "on", "nrc_client_id": "gw"}))
    notifications = load_settings().notifications
    assert notifications.callback_client_id == "on" and notifications.nrc_client_id == "gw"
    assert notifications.callback_auth is not None and notifications.callback_auth.get_secret_value() == "Token abc"
    assert notifications.callback_secret is not None and notifications.callback_secret.get_secret_value() == "cb-secret"
    assert notifications.nrc_secret is not None and notifications.nrc_secret.get_secret_value() == "nrc-secret"


def test_the_file_merges_with_the_config_file_and_loses_to_nothing_it_conflicts_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("zgw_secret: from-yaml\nlegacy: {username: gw, endpoints: {VrijeBerichten: 'http://l/x'}}\n")
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", secret(tmp_path, "zgw", "from-file"))
    monkeypatch.setenv("STUF_BRIDGE_LEGACY_PASSWORD_FILE", secret(tmp_path, "legacy", "pw"))
    settings = load_settings(config)
    assert settings.zgw_secret == "from-file"  # as the variable itself would
    assert settings.legacy.configured and settings.legacy.username == "gw"
    assert settings.legacy.password is not None and settings.legacy.password.get_secret_value() == "pw"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("STUF_BRIDGE_ZGW_SECRET", "x", "STUF_BRIDGE_ZGW_SECRET"),
        ("STUF_BRIDGE_DATABASE_URL", "sqlite:///x", "STUF_BRIDGE_DATABASE_URL"),
        ("STUF_BRIDGE_ZGW_CREDENTIALS", "{}", "STUF_BRIDGE_ZGW_CREDENTIALS"),
        ("STUF_BRIDGE_LEGACY", '{"username": "gw", "password": "x"}', "STUF_BRIDGE_LEGACY (its 'password')"),
    ],
)
def test_a_variable_and_its_file_both_set_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    file_variable = {"STUF_BRIDGE_LEGACY": "STUF_BRIDGE_LEGACY_PASSWORD_FILE"}.get(variable, f"{variable}_FILE")
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv(file_variable, secret(tmp_path, "s", "{}"))
    with pytest.raises(ValueError, match=f"both {re.escape(named)} and {file_variable}"):
        load_settings()


def test_legacy_variable_without_a_password_and_the_file_are_not_a_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_LEGACY", '{"username": "gw"}')
    monkeypatch.setenv("STUF_BRIDGE_LEGACY_PASSWORD_FILE", secret(tmp_path, "s", "pw"))
    assert load_settings().legacy.password is not None


def test_an_unreadable_or_malformed_file_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ValueError, match="STUF_BRIDGE_ZGW_SECRET_FILE: cannot read .*absent"):
        load_settings()
    monkeypatch.delenv("STUF_BRIDGE_ZGW_SECRET_FILE")
    monkeypatch.setenv("STUF_BRIDGE_ZGW_CREDENTIALS_FILE", secret(tmp_path, "c", "not json"))
    with pytest.raises(ValueError, match="STUF_BRIDGE_ZGW_CREDENTIALS_FILE: .* does not hold JSON"):
        load_settings()


def test_an_empty_file_variable_is_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", "")
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET", "direct")
    assert load_settings().zgw_secret == "direct"


def test_the_conflict_stops_serve_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET", "x")
    monkeypatch.setenv("STUF_BRIDGE_ZGW_SECRET_FILE", secret(tmp_path, "s", "y"))

    def started(settings: object) -> None:
        raise AssertionError("serve started despite the conflict")

    monkeypatch.setattr(cli, "serve", started)
    assert cli.main(["serve", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "STUF_BRIDGE_ZGW_SECRET" in err and "STUF_BRIDGE_ZGW_SECRET_FILE" in err
