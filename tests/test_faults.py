"""faults.py, the one place where an error becomes a StUF fault: the table, its MRO look-up, failed steps, bugs,
the store, and the import direction that keeps ``zgw/`` free of StUF."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

import stuf_bridge.zgw.catalogue as catalogue_module
import stuf_bridge.zgw.errors as zgw_errors_module
from stuf_bridge.errors import BackendUnavailable, Fault, ProcessingError, StepFailed, StufBridgeError
from stuf_bridge.faults import FAULTS, INTERNAL_ERROR, is_internal, lookup, to_fault
from stuf_bridge.gateway import Gateway, Reply
from stuf_bridge.operations import Handler, MessageContext, default_handlers
from stuf_bridge.settings import load_settings
from stuf_bridge.store import Store, StoreError, create_store
from stuf_bridge.stuf.namespaces import FOUT, STUF
from stuf_bridge.stuf.validation import Schemas
from stuf_bridge.zgw import (
    CatalogueLookupError,
    ZgwAmbiguous,
    ZgwClientError,
    ZgwError,
    ZgwNotFound,
    ZgwTimeout,
    ZgwUnavailable,
    ZgwWrongLock,
)

from .support.messages import di02

SRC = Path(__file__).resolve().parents[1] / "src" / "stuf_bridge"
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SECRET = "postgresql://bridge:hunter2@db.internal/stuf"


def _error_classes() -> list[type[BaseException]]:
    """Every exception class defined in zgw/errors.py and zgw/catalogue.py."""
    found = []
    for module in (zgw_errors_module, catalogue_module):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def _instance(cls: type[BaseException]) -> BaseException:
    if issubclass(cls, ZgwAmbiguous):
        return cls("Zaak", "ZAAK-1", ["https://zgw.test/zaken/1", "https://zgw.test/zaken/2"])
    if issubclass(cls, CatalogueLookupError):
        return cls("geen zaaktype B999", kind="zaaktype", searched={"identificatie": "B999"})
    return cls("GET /zaken/api/v1/zaken → something")


# --- the table ---------------------------------------------------------------------------------------------------


def test_the_zgw_modules_define_the_errors_this_test_walks() -> None:
    names = {cls.__name__ for cls in _error_classes()}
    assert {"ZgwError", "ZgwTimeout", "ZgwAmbiguous", "ZgwLocked", "CatalogueNotFound"} <= names


#: zgw errors that are meant to share their parent's fault; any other new class needs an entry of its own.
INHERITING = {"ZgwLockError"}


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_every_zgw_error_class_becomes_a_fault(cls: type[BaseException]) -> None:
    assert cls in FAULTS or cls.__name__ in INHERITING, f"{cls.__name__}: add it to faults.FAULTS"
    assert lookup(cls) is not None
    fault = to_fault(_instance(cls))
    assert isinstance(fault, Fault) and not is_internal(fault)
    assert KEBAB.match(fault.reason) and fault.code.startswith("StUF") and fault.plek in ("client", "server")


def test_every_entry_has_its_own_kebab_case_reason() -> None:
    reasons = {}
    for cls in FAULTS:
        fault = to_fault(_instance(cls) if cls is not StoreError else StoreError(SECRET))
        assert KEBAB.match(fault.reason), fault.reason
        reasons.setdefault(fault.reason, []).append(cls.__name__)
    assert {reason: names for reason, names in reasons.items() if len(names) > 1} == {}


def test_the_most_specific_class_wins() -> None:
    assert to_fault(ZgwNotFound("GET /zaken/1 → 404")).reason == "zgw-not-found"
    assert to_fault(ZgwClientError("GET /zaken/1 → 418")).reason == "zgw-refused"
    assert to_fault(ZgwError("GET /zaken/1 → ?")).reason == "zgw-unexpected"


def test_a_subclass_not_listed_gets_its_parents_entry() -> None:
    class ZgwTeapot(ZgwClientError):
        pass

    class ZgwGone(ZgwNotFound):
        pass

    class SlowerStill(ZgwTimeout):
        pass

    assert ZgwTeapot not in FAULTS and ZgwGone not in FAULTS and SlowerStill not in FAULTS
    teapot = to_fault(ZgwTeapot("GET /zaken → 418"))
    assert (teapot.code, teapot.plek, teapot.reason) == ("StUF058", "client", "zgw-refused")
    assert to_fault(ZgwGone("GET /zaken/1 → 410")).reason == "zgw-not-found"
    slower = to_fault(SlowerStill("GET /zaken → timeout"))
    assert (slower.code_for("Fo02"), slower.code_for("Fo03"), slower.reason) == ("StUF960", "StUF046", "zgw-timeout")


def test_a_lock_error_says_what_to_do() -> None:
    fault = to_fault(ZgwWrongLock("POST /enkelvoudiginformatieobjecten/1/unlock → 400 incorrect-lock-id"))
    assert (fault.code, fault.plek, fault.reason) == ("StUF058", "client", "lock-incorrect")
    assert fault.details is not None and "incorrect-lock-id" in fault.details  # the backend's reason is quoted


def test_a_fault_is_answered_as_it_is() -> None:
    fault = ProcessingError("Zaak bestaat niet", plek="client", reason="zaak-not-found")
    assert to_fault(fault) is fault


# --- bugs and the store: their text stays in the log ---------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError(SECRET), KeyError(SECRET), ValueError(SECRET)],
                         ids=lambda error: type(error).__name__)
def test_an_unknown_error_is_an_internal_error_that_does_not_quote_it(error: Exception) -> None:
    fault = to_fault(error)
    assert is_internal(fault) and fault.reason == INTERNAL_ERROR
    assert (fault.code, fault.plek) == ("StUF058", "server")
    assert "hunter2" not in f"{fault.omschrijving} {fault.details}"
    assert type(error).__name__ not in (fault.details or "")


def test_a_store_error_is_the_store_being_unavailable_without_its_url() -> None:
    error = StoreError(f"claim_message failed on {SECRET}: OperationalError: could not connect to server")
    assert isinstance(error, StufBridgeError)
    fault = to_fault(error)
    assert isinstance(fault, BackendUnavailable) and fault.reason == "store-unavailable"
    assert (fault.code_for("Fo02"), fault.code_for("Fo03"), fault.plek) == ("StUF049", "StUF046", "server")
    text = f"{fault.omschrijving} {fault.details}"
    assert "hunter2" not in text and "db.internal" not in text and "OperationalError" not in text


@pytest.mark.parametrize(("error", "code", "reason"), [
    (RuntimeError(SECRET), "StUF058", INTERNAL_ERROR),
    (StoreError(SECRET), "StUF049", "store-unavailable"),
    (StepFailed("POST zaken", RuntimeError(SECRET), [], []), "StUF058", INTERNAL_ERROR),
], ids=["bug", "store", "failed-step"])
async def test_the_gateway_answers_with_the_fault_and_keeps_the_text_to_itself(
    tmp_path: Path, schemas: Schemas, error: Exception, code: str, reason: str
) -> None:
    async def failing(ctx: MessageContext) -> etree._Element:
        raise error

    async with create_store(f"sqlite:///{tmp_path / 'store.sqlite3'}") as store:
        reply = await _send(_gateway(store, schemas, failing))
    assert (reply.status, reply.fault_code) == (500, code)
    fault = etree.fromstring(reply.body).find(f".//{{{STUF}}}body")
    assert fault is not None and fault.findtext(f"{{{STUF}}}detailsXML/{{{FOUT}}}reden") == reason
    assert b"hunter2" not in reply.body and b"db.internal" not in reply.body


def _gateway(store: Store, schemas: Schemas, handler: Handler) -> Gateway:
    handlers = {**default_handlers(), "genereerZaakIdentificatie": handler}
    return Gateway(load_settings(None), store, schemas, handlers=handlers)


async def _send(gateway: Gateway) -> Reply:
    body, headers = di02(referentienummer="f-1")
    return await gateway.handle(None, body, content_type=headers["Content-Type"], soap_action=headers["SOAPAction"])


# --- failed steps ------------------------------------------------------------------------------------------------


def _failed(cause: BaseException) -> StepFailed:
    return StepFailed("POST rollen (initiator)", cause, ["ongedaan: POST zaken"], ["ongedaan: POST status"])


def test_a_failed_step_keeps_its_causes_code_and_reason() -> None:
    cause = ZgwUnavailable("POST /zaken/api/v1/rollen → niet bereikbaar (ConnectError)")
    fault = to_fault(_failed(cause))
    direct = to_fault(cause)
    assert (fault.code_for("Fo02"), fault.code_for("Fo03"), fault.plek, fault.reason) == (
        direct.code_for("Fo02"), direct.code_for("Fo03"), direct.plek, "zgw-unavailable")
    assert fault.details is not None
    assert "POST rollen (initiator)" in fault.details and str(cause) in fault.details
    assert "teruggedraaid: ongedaan: POST zaken" in fault.details and "NIET teruggedraaid" in fault.details


def test_a_failed_step_leaves_the_fault_it_was_caused_by_as_it_was() -> None:
    cause = ProcessingError("Roltype onbekend", "geen roltype Initiator", plek="client", reason="roltype-not-found")
    fault = to_fault(_failed(cause))
    assert type(fault) is ProcessingError and (fault.plek, fault.reason) == ("client", "roltype-not-found")
    assert fault is not cause and cause.details == "geen roltype Initiator"
    assert fault.details is not None and "POST rollen (initiator)" in fault.details


@pytest.mark.parametrize("cause", [RuntimeError(SECRET), StoreError(SECRET)], ids=lambda c: type(c).__name__)
def test_a_failed_step_does_not_quote_a_bug_or_the_store(cause: Exception) -> None:
    fault = to_fault(_failed(cause))
    assert fault.reason == (INTERNAL_ERROR if isinstance(cause, RuntimeError) else "store-unavailable")
    assert fault.details is not None and "POST rollen (initiator)" in fault.details
    assert "hunter2" not in fault.details


# --- import direction (DESIGN principle 1) -----------------------------------------------------------------------


def _imports(path: Path, package: str) -> set[tuple[str, str]]:
    """(module, name) for every import in ``path``, relative imports resolved against ``package``."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, "*") for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            module = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module or ""
            found |= {(module, alias.name) for alias in node.names}
    return found


def test_zgw_imports_nothing_of_stuf() -> None:
    allowed = {"StufBridgeError", "clip", "DETAILS_MAX"}
    for path in sorted((SRC / "zgw").glob("*.py")):
        for module, name in _imports(path, "stuf_bridge.zgw"):
            where = f"{path.name}: from {module} import {name}"
            if module == "stuf_bridge.errors":
                assert name in allowed, where
            assert not module.startswith(("stuf_bridge.stuf", "stuf_bridge.soap", "stuf_bridge.web",
                                          "stuf_bridge.faults", "stuf_bridge.gateway", "stuf_bridge.operations")), where


def test_the_import_walker_sees_relative_imports() -> None:
    seen = _imports(SRC / "zgw" / "errors.py", "stuf_bridge.zgw")
    assert ("stuf_bridge.errors", "StufBridgeError") in seen


def test_errors_imports_neither_zgw_nor_store() -> None:
    modules = {module for module, _ in _imports(SRC / "errors.py", "stuf_bridge")}
    assert not {m for m in modules if m.startswith(("stuf_bridge.zgw", "stuf_bridge.store", "stuf_bridge.faults"))}
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, stuf_bridge.errors; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "stuf_bridge.zgw" not in loaded and "stuf_bridge.store" not in loaded
