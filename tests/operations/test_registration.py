"""One registration per operation (``@handler`` in operations/), checked against the registry; and the reason
codes of the flows' faults, checked against the table in operations/common.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from lxml import etree

from stuf_bridge import operations
from stuf_bridge.operations import common, default_handlers, handler
from stuf_bridge.stuf.registry import REGISTRY

from ..support.faults import stuf_fault
from .messages import creeer_zaak

OPERATIONS = Path(operations.__file__).parent
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FAULTS = {"ProcessingError", "NotSupported", "StuurgegevensError", "Fault", "MessageError", "not_found"}


def test_only_overdragen_zaak_and_its_answer_have_no_handler() -> None:
    """A registry function without handler answers StUF040 at run time: the ones left out are exactly these."""
    assert REGISTRY.functions() - default_handlers().keys() == {"overdragenZaak", "overdragenZaakAntwoord"}


def test_every_handler_is_for_a_registry_function() -> None:
    assert default_handlers().keys() <= REGISTRY.functions()


def test_registering_a_function_twice_is_refused() -> None:
    async def another(ctx: operations.MessageContext) -> None:
        return None

    before = default_handlers()
    with pytest.raises(ValueError, match="creeerZaak"):
        handler("geefZaakdetailsNieuw", "creeerZaak")(another)
    assert default_handlers() == before  # nothing of the refused registration was kept


async def test_a_flow_without_backend_answers_stuf040_no_zgw_backend(client: httpx.AsyncClient) -> None:
    """The app without a ZGW backend configured: the registration answers before the flow runs."""
    response = await client.post("/zds/OntvangAsynchroon", content=creeer_zaak()[0], headers=creeer_zaak()[1])
    assert stuf_fault(response).codes == ("StUF040", "no-zgw-backend")


# --- reason codes -----------------------------------------------------------------------------------------------


def _table() -> dict[str, str]:
    """reason → StUF column of the table in operations/common.py's docstring."""
    rows: dict[str, str] = {}
    doc = common.__doc__ or ""
    for line in doc.split("reason                             StUF", 1)[1].splitlines()[2:]:
        if line.startswith("====="):
            break
        reason, stuf, *_ = line.split()
        rows[reason] = stuf
    return rows


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(OPERATIONS.glob("*.py"))]


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _reasons_used() -> set[str]:
    """Every reason literal in operations/: ``reason="…"`` arguments, ``reason: str = "…"`` defaults and
    ``fault.reason = "…"`` assignments."""
    used: set[str] = set()
    for _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "reason" and isinstance(node.value, ast.Constant):
                used.add(node.value.value)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args.args + node.args.kwonlyargs
                defaults = [*node.args.defaults, *node.args.kw_defaults]
                for argument, default in zip(arguments[len(arguments) - len(defaults):], defaults, strict=True):
                    if argument.arg == "reason" and isinstance(default, ast.Constant):
                        used.add(default.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
                    isinstance(target, ast.Attribute) and target.attr == "reason" for target in node.targets):
                used.add(node.value.value)
    return used


def test_every_reason_is_in_the_table_and_kebab_case() -> None:
    table, used = _table(), _reasons_used()
    assert len(table) >= 30
    assert not [reason for reason in table if not KEBAB.match(reason)]
    assert used - table.keys() == set(), "reasons raised but not in the table of operations/common.py"
    assert table.keys() - used == set(), "reasons in the table that no flow raises"


def test_every_fault_the_flows_raise_names_its_reason() -> None:
    """A fault built in operations/ without ``reason=`` would answer the class default (internal-error)."""
    unnamed = []
    for path, tree in _modules():
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
            sets_reason = any(isinstance(n, ast.Attribute) and n.attr == "reason" and isinstance(n.ctx, ast.Store)
                              for n in ast.walk(function))
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n) in FAULTS):
                if not any(k.arg == "reason" for k in call.keywords) and not sets_reason:
                    unnamed.append(f"{path.name}:{call.lineno} {_name(call)}")
    assert unnamed == []


def test_the_fault_answer_carries_the_reason() -> None:
    """The reason the test helper reads is where the gateway writes it (stuf/answers.py)."""
    from stuf_bridge.errors import ProcessingError
    from stuf_bridge.stuf.answers import foutbericht
    from stuf_bridge.stuf.stuurgegevens import AnswerParties, Systeem

    parties = AnswerParties(zender=Systeem(organisatie="0363", applicatie="X"), ontvanger=Systeem(applicatie="Y"),
                            cross_refnummer="1")
    answer = foutbericht("Fo03", ProcessingError("x", reason="zaak-not-found"), parties)
    assert stuf_fault(etree.tostring(answer)).codes == ("StUF058", "zaak-not-found")
