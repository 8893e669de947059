"""The one format of the data-driven cases under ``tests/cases/`` (described in ``tests/cases/README.md``).

A case folder holds ``case.yaml``, the files it sends (``request.xml``, ``setup-*.xml``) and optionally
``expected.xml``. Every ``case.yaml`` is validated against the models below when it is loaded (``extra="forbid"``
throughout), so that a misspelt key is a test error naming the file and the key, not a check that silently never
runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stuf_bridge.stuf.namespaces import FOUT, SOAP11, SOAP12, STUF, ZDS, ZKN

CASES = Path(__file__).resolve().parents[1] / "cases"
CASE_FILE = "case.yaml"
EXPECTED_FILE = "expected.xml"
NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS, "soap11": SOAP11, "soap12": SOAP12, "fout": FOUT}

Endpoint = Literal["OntvangAsynchroon", "BeantwoordVraag", "VrijeBerichten"]
_CALL = r"^(GET|POST|PUT|PATCH|DELETE) /\S+$"


class CaseFormatError(Exception):
    """A ``case.yaml`` that does not follow the format; the message names the file and every offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(_Strict):
    """One message sent to the gateway: a file of the case folder, sent byte for byte, or a public sample from
    ``../shared/reference/samples``, rendered and put in a SOAP 1.1 envelope (without ../shared the case skips)."""

    file: str | None = None
    sample: str | None = None
    endpoint: Endpoint | None = "OntvangAsynchroon"  # POST /zds/<endpoint>; null: POST /zds (one address for all)
    soap_action: str | None = None  # the raw SOAPAction header; omitted: none is sent
    content_type: str = "text/xml; charset=utf-8"
    values: dict[str, str] = {}  # sample placeholders (tests/support/render.py); unbound ones get dummies
    replace: dict[str, str] = {}  # literal edits of the message text, each must occur
    capture: dict[str, str] = {}  # name: XPath into the answer; the text is a placeholder value for later samples

    @model_validator(mode="before")
    @classmethod
    def _request_xml_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "file" not in data and "sample" not in data:
            return {**data, "file": "request.xml"}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> Message:
        if self.file is not None and self.sample is not None:
            raise ValueError("give file or sample, not both")
        if self.values and self.sample is None:
            raise ValueError("values fill a sample's placeholders; a file is sent as it is")
        return self

    @property
    def name(self) -> str:
        return self.file or Path(self.sample or "").stem


class ExpectedCall(_Strict):
    """A ZGW call whose JSON body must contain ``body`` (a subset: nested objects compared key by key)."""

    call: str = Field(pattern=_CALL)
    body: dict[str, Any]


class ExpectedFault(_Strict):
    kind: Literal["Fo02", "Fo03"]
    code: str = Field(pattern=r"^StUF\d{3}$")
    plek: Literal["client", "server"]
    reason: str | None = Field(None, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")  # detailsXML/fout:reden
    omschrijving: str | None = None  # exact
    omschrijving_contains: str | None = None  # case-insensitive
    details_contains: str | None = None  # case-insensitive


class Expect(_Strict):
    status: int | None = None  # HTTP status; default 500 with a fault, else 200
    soap: Literal["1.1", "1.2"] = "1.1"  # SOAP version of the answer envelope
    answer: str | None = None  # root of the StUF answer, prefix:name; a fault case gives ``fault`` instead
    fault: ExpectedFault | None = None
    calls: list[str | ExpectedCall] | None = None  # the request's ZGW calls in any order; omitted: not checked
    xpath: dict[str, str] = {}  # XPath into the StUF answer: the one text it finds; {year} = this year
    schema_valid: bool = True  # the StUF answer validates against our schemas
    request_valid: bool = False  # the request's StUF message validates too (the gateway has no schema warning)
    stored_content: str | None = None  # identificatie of the document whose stored bytes are the request's inhoud

    @model_validator(mode="after")
    def _answer_or_fault(self) -> Expect:
        if (self.answer is None) == (self.fault is None):
            raise ValueError("give answer (the StUF answer's root) or fault, exactly one")
        if self.answer is not None and self.answer.split(":")[0] not in NS:
            raise ValueError(f"answer {self.answer!r}: the prefix is none of {sorted(NS)}")
        for call in self.calls or []:
            if isinstance(call, str) and not re.match(_CALL, call):
                raise ValueError(f"calls: {call!r} is not 'METHOD /path'")
        return self

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else (500 if self.fault else 200)

    @property
    def call_keys(self) -> list[str]:
        return [c if isinstance(c, str) else c.call for c in self.calls or []]


class Case(_Strict):
    description: str
    settings: dict[str, Any] = {}  # setting overrides (stuf_bridge.settings), for the whole app of the case
    setup: list[Message] = []  # sent first, in order; each must be answered with HTTP 200
    request: Message = Message()
    expect: Expect


def case_folders(root: Path = CASES) -> list[Path]:
    """Every folder under ``root`` with a case.yaml, in path order."""
    return sorted(p.parent for p in root.rglob(CASE_FILE))


def case_id(folder: Path, root: Path = CASES) -> str:
    return folder.relative_to(root).as_posix()


def load_case(folder: Path) -> Case:
    """The validated case of ``folder``; a ``CaseFormatError`` naming the file and keys when it does not fit."""
    path = folder / CASE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = Case.model_validate(data)
    except yaml.YAMLError as exc:
        raise CaseFormatError(f"{path}: not YAML: {exc}") from None
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(map(str, error['loc'])) or '(top)'}: {error['msg']}" for error in exc.errors()
        )
        raise CaseFormatError(f"{path} does not follow tests/cases/README.md:\n{problems}") from None
    _check_files(folder, case)
    return case


def _check_files(folder: Path, case: Case) -> None:
    """The files the case names exist, and the folder holds no file the case does not use (a misspelt
    ``expected.xml`` would otherwise be a comparison that never runs)."""
    used = {CASE_FILE, EXPECTED_FILE} | {m.file for m in [*case.setup, case.request] if m.file}
    missing = sorted(name for name in used - {EXPECTED_FILE} if not (folder / name).is_file())
    unused = sorted(p.name for p in folder.iterdir() if p.name not in used)
    if missing or unused:
        raise CaseFormatError(f"{folder / CASE_FILE}: files named but missing: {missing}; files not used: {unused}")
