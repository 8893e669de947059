"""The routing table as configuration: read from the YAML config file and from ``STUF_BRIDGE_ROUTING`` (JSON), and
refused when it is read — naming the rule and the reason — so that a broken table stops the start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stuf_bridge import cli
from stuf_bridge.pipeline.route import Mode
from stuf_bridge.settings import load_settings

GOOD = """
routing:
  default: translate
  rules:
    - match: {zaaktype: [B1026, B1027], operation: ["*"]}
      mode: replicate
      primary: legacy
    - match: {zender: "0363/GISVG"}
      mode: proxy
    - match: {operation: [genereerZaakIdentificatie]}
      mode: proxy
"""


def test_the_table_of_the_issue_from_yaml(tmp_path: Path) -> None:
    config = tmp_path / "stuf-bridge.yaml"
    config.write_text(GOOD)
    routing = load_settings(config).routing
    assert routing.default.mode is Mode.TRANSLATE and routing.active
    assert [(r.mode, r.primary) for r in routing.rules] == [
        (Mode.REPLICATE, "legacy"), (Mode.PROXY, "legacy"), (Mode.PROXY, "legacy")]
    first, second, third = (rule.match for rule in routing.rules)
    assert (first.zaaktype, first.operation, first.zender) == (("B1026", "B1027"), None, None)  # "*": any
    assert (second.zaaktype, second.operation, second.zender) == (None, None, ("0363/GISVG",))
    assert third.operation == ("genereerZaakIdentificatie",)


def test_the_table_from_the_environment(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    make_settings()  # clears the developer's STUF_BRIDGE_ variables
    monkeypatch.setenv("STUF_BRIDGE_ROUTING", json.dumps(
        {"default": {"mode": "replicate", "primary": "zgw"},
         "rules": [{"match": {"operation": "creeerZaak"}, "mode": "translate"}]}))
    routing = load_settings().routing
    assert (routing.default.mode, routing.default.primary) == (Mode.REPLICATE, "zgw")
    assert (routing.rules[0].mode, routing.rules[0].primary) == (Mode.TRANSLATE, "zgw")


def test_no_routing_section_needs_no_router(make_settings: Any) -> None:
    routing = make_settings().routing
    assert (routing.rules, routing.default.mode, routing.active) == ((), Mode.TRANSLATE, False)
    assert make_settings(routing={"default": "proxy"}).routing.active


OK = {"match": {"operation": "*"}, "mode": "translate"}
BROKEN: list[tuple[str, Any, list[str]]] = [
    ("unknown operation", {"match": {"operation": ["creeerZaak", "creerZaak"]}, "mode": "proxy"},
     ["match.operation", "unknown operation 'creerZaak'", "did you mean creeerZaak?"]),
    ("a dialect's operation name is not a function name", {"match": {"operation": "creeerZaak_Lk01"}, "mode": "proxy"},
     ["unknown operation 'creeerZaak_Lk01'"]),
    ("unknown mode", {"match": {"operation": "*"}, "mode": "forward"}, ["mode: Input should be"]),
    ("translate answers from zgw", {"match": {"operation": "*"}, "mode": "translate", "primary": "legacy"},
     ["primary legacy contradicts mode translate"]),
    ("proxy answers from legacy", {"match": {"operation": "*"}, "mode": "proxy", "primary": "zgw"},
     ["primary zgw contradicts mode proxy"]),
    ("replicate must say its primary", {"match": {"operation": "*"}, "mode": "replicate"},
     ["mode replicate needs a primary"]),
    ("unknown primary", {"match": {"operation": "*"}, "mode": "replicate", "primary": "both"}, ["primary: Input"]),
    ("empty match", {"match": {}, "mode": "proxy"}, ["empty match"]),
    ("no match", {"mode": "proxy"}, ["match: Field required"]),
    ("empty list", {"match": {"zaaktype": []}, "mode": "proxy"}, ["match.zaaktype", "empty list matches nothing"]),
    ("unknown key in match", {"match": {"sender": "0363/X"}, "mode": "proxy"}, ["match.sender", "Extra inputs"]),
    ("unknown key in the rule", {"match": {"operation": "*"}, "mode": "proxy", "stopOnError": True},
     ["stopOnError", "Extra inputs"]),
    ("zender without applicatie", {"match": {"zender": "0363"}, "mode": "proxy"},
     ["match.zender", "must be 'organisatie/applicatie'"]),
]


@pytest.mark.parametrize(("rule", "reasons"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_broken_rule_is_named_with_its_reason(make_settings: Any, rule: dict[str, Any], reasons: list[str]) -> None:
    with pytest.raises(ValueError) as raised:
        make_settings(routing={"rules": [OK, OK, rule]})
    message = str(raised.value)
    assert "routing.rules[2]: " in message
    for reason in reasons:
        assert reason in message


def test_unknown_keys_and_defaults_are_refused(make_settings: Any) -> None:
    with pytest.raises(ValueError, match=r"routing\.rule\b[\s\S]*Extra inputs"):
        make_settings(routing={"rule": []})
    with pytest.raises(ValueError, match=r"routing\.default[\s\S]*needs a primary"):
        make_settings(routing={"default": "replicate"})


def test_a_broken_routing_file_stops_the_start(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, make_settings: Any) -> None:
    make_settings()  # clears the developer's STUF_BRIDGE_ variables
    served: list[Any] = []
    monkeypatch.setattr(cli, "serve", served.append)
    config = tmp_path / "stuf-bridge.yaml"
    config.write_text(GOOD.replace("genereerZaakIdentificatie", "genereerZaakId"))
    assert cli.main(["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")]) == 2
    assert served == []
    err = capsys.readouterr().err
    assert "routing.rules[2]: match.operation: unknown operation 'genereerZaakId'" in err
