"""Data-driven: each folder under ``cases/`` holds a request (hand-made, in the shape a real client sends; the
folder's ``case.yaml`` names the sample it follows), the mapping context, and the expected ZGW bodies: the zaak,
the rollen, the statussen and the zaakobjecten, each with its clears and warnings.

After a deliberate change to the mapping files, regenerate the expected files and review the diff::

    STUF_BRIDGE_UPDATE_CASES=1 python -m pytest tests/mapping/test_cases.py
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from stuf_bridge.mapping import MappingContext, Mappings
from stuf_bridge.stuf.namespaces import ZKN
from stuf_bridge.stuf.validation import Schemas

CASES = Path(__file__).resolve().parent / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "request.xml").is_file())
UPDATE = os.environ.get("STUF_BRIDGE_UPDATE_CASES") == "1"


def load_case(case_dir: Path) -> tuple[dict[str, Any], etree._Element]:
    case = yaml.safe_load((case_dir / "case.yaml").read_text("utf-8"))
    root = etree.parse(str(case_dir / "request.xml")).getroot()
    return case, root


def case_context(case: dict[str, Any]) -> MappingContext:
    c = case["context"]
    return MappingContext(
        dialect=str(c["dialect"]), mode=c["mode"], rsin=c.get("rsin"), now=datetime.fromisoformat(c["now"])
    )


def map_case(mappings: Mappings, case_dir: Path) -> dict[str, Any]:
    case, root = load_case(case_dir)
    obj = root.findall(f"{{{ZKN}}}object")[case["object"]]
    context = case_context(case)
    result = {
        "zaak": mappings.to_zgw("ZAK", obj, context=context).as_json(),
        "rollen": [rol.as_json() for rol in mappings.rollen_to_zgw(obj, context=context)],
        "statussen": [
            mappings.to_zgw("ZAKSTT", el, context=context).as_json() for el in obj.iterfind(f"{{{ZKN}}}heeft")
        ],
        "zaakobjecten": [
            mappings.to_zgw("ZAKOBJ", el, context=context).as_json()
            for el in obj.iterfind(f"{{{ZKN}}}heeftBetrekkingOp")
        ],
    }
    return json.loads(json.dumps(result))


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(mappings: Mappings, case_dir: Path) -> None:
    actual = map_case(mappings, case_dir)
    expected_path = case_dir / "expected.json"
    if UPDATE or not expected_path.exists():
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", "utf-8")
        if not UPDATE:
            pytest.fail(f"wrote {expected_path}; review it and run again")
    expected = json.loads(expected_path.read_text("utf-8"))
    assert actual == expected


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_request_is_schema_valid(schemas: Schemas, case_dir: Path) -> None:
    """The requests are what the dialect allows, except deviations real clients make (named in case.yaml)."""
    case, root = load_case(case_dir)
    issues = schemas.validate(root)
    allowed = case.get("schema_deviations", [])
    unexpected = [i for i in issues if not any(fragment in str(i) for fragment in allowed)]
    assert unexpected == []
