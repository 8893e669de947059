"""Settings: sources and their priority, validation of values, and that the README documents every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from stuf_bridge.settings import (
    DEMO_RSIN,
    IdempotencyPolicy,
    Settings,
    ValidationPolicy,
    load_settings,
    with_demo_profile,
)
from stuf_bridge.zgw_embedded import EmbeddedSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`STUF_BRIDGE_{name.upper()}`" not in text
               or f"`{name}`" not in text]
    assert not missing, f"README lacks settings: {missing}"
    missing = [name for name in EmbeddedSettings.model_fields if f"`STUF_BRIDGE_EMBEDDED_{name.upper()}`" not in text]
    assert not missing, f"README lacks the embedded backend's settings: {missing}"


def test_priority_cli_over_env_over_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "stuf-bridge.yaml"
    config.write_text("port: 9001\nhost: 0.0.0.0\nvalidation: strict\nvalidation_senders: {'1900/GWS4all': off}\n")
    monkeypatch.setenv("STUF_BRIDGE_PORT", "9002")
    settings = load_settings(config, port=9003)
    assert settings.port == 9003
    assert settings.host == "0.0.0.0"
    assert load_settings(config).port == 9002
    assert settings.validation_policy_for("1900", "GWS4all") is ValidationPolicy.OFF
    assert settings.validation_policy_for("1900", "Other") is ValidationPolicy.STRICT


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("default_gemeentecode: '0599'\n")
    monkeypatch.setenv("STUF_BRIDGE_CONFIG", str(config))
    assert load_settings().default_gemeentecode == "0599"


def test_sender_policy_precedence() -> None:
    settings = Settings(validation="warn", validation_senders={"1900/*": "strict", "*/App": "off", "1900/App": "warn"})
    assert settings.validation_policy_for("1900", "App") is ValidationPolicy.WARN
    assert settings.validation_policy_for("1900", "Other") is ValidationPolicy.STRICT
    assert settings.validation_policy_for("0363", "App") is ValidationPolicy.OFF
    assert settings.validation_policy_for(None, "X") is ValidationPolicy.WARN


@pytest.mark.parametrize(
    "template, message",
    [
        ("{gemeentecode}{jaar}", "must contain {volgnummer}"),
        ("{gemeentecode}{volgnummer.__class__}", "unknown field"),
        ("{zaak}{volgnummer}", "unknown field"),
        ("{volgnummer!r}", "conversions"),
    ],
)
def test_identifier_templates_are_checked(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(zaak_identificatie_template=template)


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(default_gemeentecode="12345")
    with pytest.raises(ValueError):
        Settings(validation_senders={"no-slash": "strict"})
    with pytest.raises(FileNotFoundError):
        load_settings("/nonexistent/stuf-bridge.yaml")


def test_zgw_urls_and_credentials() -> None:
    embedded = Settings()
    assert embedded.zgw_embedded
    assert embedded.zgw_api_url("zaken", "http://127.0.0.1:8080/zgw") == "http://127.0.0.1:8080/zgw/zaken/api/v1"
    with pytest.raises(ValueError, match="no URL"):
        embedded.zgw_api_url("zaken")
    external = Settings(
        zgw_url="https://openzaak.example.nl/",
        zgw_documenten_url="https://drc.example.nl/documenten/api/v1/",
        zgw_credentials={"documenten": {"client_id": "drc", "secret": "s3"}},
    )
    assert not external.zgw_embedded
    assert external.zgw_api_url("catalogi") == "https://openzaak.example.nl/catalogi/api/v1"
    assert external.zgw_api_url("documenten") == "https://drc.example.nl/documenten/api/v1"
    assert external.zgw_credentials_for("documenten").client_id == "drc"
    assert external.zgw_credentials_for("zaken").client_id == "stuf-bridge"
    with pytest.raises(ValueError, match="unknown ZGW APIs"):
        Settings(zgw_credentials={"notificaties": {"client_id": "x", "secret": "y"}})


def test_default_rsin_is_checked_and_the_backend_never_chooses_it() -> None:
    with pytest.raises(ValueError, match="11-test"):
        Settings(default_rsin="123456789")
    for settings in (Settings(), Settings(zgw_url="https://openzaak.example.nl")):
        assert settings.default_rsin is None
        assert settings.default_rsin is None  # the old name, now the configured value only
    assert Settings(zgw_url="https://x", default_rsin="123456782").default_rsin == "123456782"


def test_the_demo_profile_fills_in_only_what_an_embedded_start_lacks() -> None:
    assert with_demo_profile(Settings()).default_rsin == DEMO_RSIN == "002220647"
    explicit = Settings(default_rsin="123456782")
    assert with_demo_profile(explicit) is explicit
    external = Settings(zgw_url="https://openzaak.example.nl")
    assert with_demo_profile(external) is external
    assert external.default_rsin is None


def test_the_embedded_backend_has_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUF_BRIDGE_EMBEDDED_JWT_LEEWAY", "5")
    assert EmbeddedSettings().jwt_leeway == 5
    monkeypatch.setenv("STUF_BRIDGE_EMBEDDED_JWT_LEEWAY", "-1")
    with pytest.raises(ValueError, match="jwt_leeway"):
        EmbeddedSettings()
    with pytest.raises(ValueError, match="zgw_jwt_leeway"):
        Settings(zgw_jwt_leeway=5)  # no longer the gateway's




def test_idempotency_policy_per_sender_uses_the_same_lookup(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("idempotency_senders: {'*/Rapportage': by_body, '1900/*': off, '1900/Rapportage': strict}\n")
    settings = load_settings(config)
    assert settings.idempotency_policy_for("1900", "Rapportage") is IdempotencyPolicy.STRICT
    assert settings.idempotency_policy_for("0363", "Rapportage") is IdempotencyPolicy.BY_BODY
    assert settings.idempotency_policy_for("1900", "Other") is IdempotencyPolicy.OFF  # YAML's `off` is false
    assert settings.idempotency_policy_for("0363", "Other") is IdempotencyPolicy.STRICT
    with pytest.raises(ValueError, match="organisatie/applicatie"):
        Settings(idempotency_senders={"Rapportage": "off"})
