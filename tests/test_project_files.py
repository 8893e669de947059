"""The files users expect of a Common Ground component: publiccode.yaml (the keys the publiccode.yml standard 0.4
requires, with values it allows), CHANGELOG.md, SECURITY.md and a version that ``stuf-bridge --version`` prints."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from stuf_bridge.cli import main

ROOT = Path(__file__).resolve().parents[1]

# publiccode.yml 0.4: the required keys (a path per key, "*" for every language of description)
REQUIRED = [
    "publiccodeYmlVersion", "name", "url", "platforms", "developmentStatus", "softwareType",
    "description.*.shortDescription", "description.*.longDescription", "description.*.features",
    "legal.license", "maintenance.type", "localisation.localisationReady", "localisation.availableLanguages",
]
DEVELOPMENT_STATUS = {"concept", "development", "beta", "stable", "obsolete"}
SOFTWARE_TYPE = {"standalone/mobile", "standalone/iot", "standalone/desktop", "standalone/web", "standalone/backend",
                 "standalone/other", "addon", "library", "configurationFiles"}
MAINTENANCE = {"internal", "contract", "community", "none"}
LAYER_TYPE = {"interaction", "process", "integration", "service", "data"}


@pytest.fixture(scope="module")
def publiccode() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "publiccode.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _values(data: object, path: list[str]) -> list[object]:
    if not path:
        return [data]
    if not isinstance(data, dict):
        return []
    head, rest = path[0], path[1:]
    if head == "*":
        return [v for value in data.values() for v in _values(value, rest)]
    return _values(data[head], rest) if head in data else []


@pytest.mark.parametrize("key", REQUIRED)
def test_publiccode_has_every_required_key(publiccode: dict[str, object], key: str) -> None:
    found = _values(publiccode, key.split("."))
    assert found and all(value not in (None, "", []) for value in found), f"publiccode.yaml lacks {key}"


def test_publiccode_values_are_ones_the_standard_allows(publiccode: dict[str, Any]) -> None:
    assert publiccode["publiccodeYmlVersion"] == "0.4"
    assert re.fullmatch(r"https://\S+", publiccode["url"])
    assert publiccode["developmentStatus"] in DEVELOPMENT_STATUS
    assert publiccode["softwareType"] in SOFTWARE_TYPE
    assert publiccode["maintenance"]["type"] in MAINTENANCE
    if publiccode["maintenance"]["type"] in ("internal", "contract"):
        assert publiccode["maintenance"]["contacts"]
    assert publiccode["nl"]["commonground"]["layerType"] in LAYER_TYPE
    for language, text in publiccode["description"].items():
        assert language in publiccode["localisation"]["availableLanguages"]
        assert len(text["shortDescription"]) <= 150, language
        assert 150 <= len(text["longDescription"]) <= 10000, language
        assert all(len(feature) <= 100 for feature in text["features"]), language
    date.fromisoformat(publiccode["releaseDate"])
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8").splitlines()[0]
    assert publiccode["legal"]["license"] == "EUPL-1.2" and "EUROPEAN UNION PUBLIC LICENCE v. 1.2" in licence


def _origin() -> str | None:
    """The repository's public address: the git remote ``origin`` when it is a network URL (a clone from a local path,
    as CI makes, has none)."""
    try:
        found = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    url = found.stdout.strip()
    if found.returncode != 0 or not re.match(r"(https://|ssh://|git@)", url):
        return None
    if url.startswith("git@"):  # git@host:owner/name.git -> https://host/owner/name.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    return url.removeprefix("ssh://git@").removesuffix("/")


def test_publiccode_url_is_the_public_repository_or_says_there_is_none(publiccode: dict[str, Any]) -> None:
    """No made-up address: the public remote's when there is one, else one in the reserved ``.invalid`` domain."""
    url = publiccode["url"]
    origin = _origin()
    if origin is None:
        host = re.fullmatch(r"https://([^/]+)/\S*", url)
        assert host and host.group(1).endswith(".invalid"), f"{url}: no public git remote, so the url must be .invalid"
    else:
        assert url.removesuffix(".git") == origin.removesuffix(".git"), (url, origin)


def test_publiccode_has_no_empty_optional_keys(publiccode: dict[str, Any]) -> None:
    """An optional key is left out rather than given an empty value (a publiccode parser refuses ``logo: ""``)."""

    def empty(data: object, where: str) -> list[str]:
        if isinstance(data, dict):
            return [p for key, value in data.items() for p in empty(value, f"{where}.{key}".lstrip("."))]
        if isinstance(data, list):
            return [p for i, value in enumerate(data) for p in empty(value, f"{where}[{i}]")]
        return [where] if data in (None, "") else []

    assert empty(publiccode, "") == []


def test_one_version_everywhere(publiccode: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    installed = version("stuf-bridge")
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"stuf-bridge {installed}"
    assert publiccode["softwareVersion"] == installed
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{installed}"\n' in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{installed}] - {publiccode['releaseDate']}" in changelog and "## [Unreleased]" in changelog


def test_security_policy_says_how_to_report() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "## Reporting a vulnerability" in text and "not report a vulnerability in a public issue" in text


# --- what an operator meets first (issue 17): the answers are where an operator looks --------------------------------

FIRST_QUESTIONS = {  # document: what it must say, as (what, a phrase that says it)
    "README.md": [
        ("make a virtual environment", "python3 -m venv"),
        ("the same number twice is the duplicate protection", "Send the same message again and the same number comes"),
        ("look at the created zaak without a JWT", "stuf-bridge zgw get zaken --identificatie"),
        ("how long the suite takes", "The whole suite (about"),
        ("how the tests use ../shared", "`../shared/reference/`"),
        ("docker compose as another start", "docker compose up"),
    ],
    "docs/operations.md": [
        ("backups of the store", "## The store: what is in it, backups"),
        ("upgrades and store migrations", "## Upgrades and store migrations"),
        ("scaling", "## Scaling: several processes on one store"),
        ("the log fields", "## Logs"),
        ("where document spools go and how large", "## Documents: spool space and TMPDIR"),
        ("exit codes", "| Exit code | Meaning |"),
        ("what a message cut off by a stop gets", "gateway-stopping"),
        ("metrics over worker processes", "PROMETHEUS_MULTIPROC_DIR"),
    ],
}


@pytest.mark.parametrize(("doc", "what", "phrase"),
                         [(doc, what, phrase) for doc, items in FIRST_QUESTIONS.items() for what, phrase in items],
                         ids=lambda v: str(v)[:40])
def test_the_docs_answer_an_operators_first_questions(doc: str, what: str, phrase: str) -> None:
    text = re.sub(r"\s+", " ", (ROOT / doc).read_text(encoding="utf-8"))
    assert re.sub(r"\s+", " ", phrase) in text, f"{doc} does not say {what}"


def test_amsterdam_time_comes_from_the_tzdata_package_not_the_system() -> None:
    """A slim container has no system zoneinfo: with none at all (an empty TZPATH), Europe/Amsterdam still loads,
    from the tzdata dependency, and a StUF tijdstip in winter and in summer gets its own offset."""
    code = (
        "import zoneinfo; assert zoneinfo.TZPATH == (), zoneinfo.TZPATH\n"
        "from stuf_bridge.stuf.values import parse_tijdstip\n"
        "print(parse_tijdstip('20260115120000').utcoffset(), parse_tijdstip('20260715120000').utcoffset())\n"
    )
    import os
    import sys

    env = {**os.environ, "PYTHONTZPATH": ""}
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["1:00:00", "2:00:00"]
    requirements = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"tzdata>=' in requirements


def test_the_documented_exit_codes_are_the_commands_own() -> None:
    """One exit code per kind of start-up failure, each in the operator guide's table, and no other."""
    from stuf_bridge.cli import Exit

    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", text, flags=re.MULTILINE)]
    assert sorted(documented) == sorted(int(code) for code in Exit)
    assert len(set(Exit)) == len(Exit.__members__)  # no two kinds share a code (an alias would hide one)
