"""Access to the shared reference material (``../shared``) and its sample messages.

The shared folder is ``$STUF_BRIDGE_SHARED`` when set, else ``<repo>/../shared``. Tests call ``require_shared()``
(or ``require_reference(...)``) so that they skip cleanly where it is absent.

A ``Sample`` is one parsed sample file: the SOAP Body's first child (or the bare root), rendered from its template
when it has placeholders, with its dialect (by namespace), its role (request or response) and, when known, its
SOAPAction.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lxml import etree

from stuf_bridge.stuf.namespaces import BG, GML, SOAP11, SOAP12, STUF, XMIME, ZDS, ZKN

from . import render as _render

__all__ = [
    "DIALECT_BY_NAMESPACE",
    "NS",
    "Dialect",
    "Role",
    "Sample",
    "Skipped",
    "classify",
    "extract_body",
    "iter_sample_files",
    "iter_samples",
    "load_sample",
    "reference_dir",
    "require_reference",
    "require_shared",
    "role_of",
    "samples_dir",
    "shared_dir",
    "soap_action_of",
]

ENV_VAR = "STUF_BRIDGE_SHARED"
REPO_ROOT = Path(__file__).resolve().parents[2]

NS = {"StUF": STUF, "ZKN": ZKN, "ZDS": ZDS, "BG": BG, "gml": GML, "xmime": XMIME}

Dialect = Literal["zds11", "zds12", "stuf"]
Role = Literal["request", "response"]
DIALECT_BY_NAMESPACE: dict[str, Dialect] = {ZKN: "zds11", ZDS: "zds12", STUF: "stuf"}
SOAP_VERSION = {SOAP11: "1.1", SOAP12: "1.2"}


# --- locating the shared folder -------------------------------------------------------------------------------


def shared_dir() -> Path | None:
    """The shared folder, or None when it does not exist."""
    configured = os.environ.get(ENV_VAR)
    path = Path(configured) if configured else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None


def require_shared() -> Path:
    """The shared folder; skips the calling test (or module, at import time) when it is absent."""
    import pytest

    path = shared_dir()
    if path is None:
        pytest.skip(
            f"shared reference material not found (set {ENV_VAR} or provide ../shared)", allow_module_level=True
        )
    return path


def reference_dir() -> Path | None:
    path = shared_dir()
    return path / "reference" if path is not None else None


def samples_dir() -> Path | None:
    ref = reference_dir()
    return ref / "samples" if ref is not None else None


def require_reference(*relative: str) -> Path:
    """``reference/<relative>``; skips when the shared folder or that path is absent."""
    import pytest

    path = require_shared().joinpath("reference", *relative)
    if not path.exists():
        pytest.skip(f"reference file not found: {path}", allow_module_level=True)
    return path


# --- samples --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One parsed sample body."""

    path: Path
    name: str  # path relative to reference/samples, with '/' separators
    source: str  # first folder under reference/samples, e.g. 'open-forms-vcr'
    body: etree._Element  # standalone copy (its own document) of the Body's first child or the bare root
    soap_version: str | None  # '1.1', '1.2', or None for a bare body
    templated: bool  # the file had placeholders and was rendered
    role: Role
    soap_action: str | None

    @property
    def namespace(self) -> str:
        return etree.QName(self.body).namespace or ""

    @property
    def local_name(self) -> str:
        return str(etree.QName(self.body).localname)

    @property
    def dialect(self) -> Dialect | None:
        return DIALECT_BY_NAMESPACE.get(self.namespace)


@dataclass(frozen=True)
class Skipped:
    """A sample file that was not turned into a ``Sample``, and why."""

    name: str
    reason: str


def iter_sample_files(root: Path | None = None) -> Iterator[Path]:
    """All ``*.xml`` files under the samples folder (or ``root``), sorted."""
    base = root if root is not None else samples_dir()
    if base is None:
        return iter(())
    return iter(sorted(p for p in base.rglob("*.xml") if p.is_file()))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def load_sample(path: Path, *, render: bool = True, skipped: list[Skipped] | None = None) -> Sample | None:
    """Parse one sample file into a ``Sample``; None (noted in ``skipped``) when it cannot be used."""
    base = samples_dir()
    name = path.relative_to(base).as_posix() if base is not None and path.is_relative_to(base) else path.name

    def skip(reason: str) -> None:
        if skipped is not None:
            skipped.append(Skipped(name, reason))

    text = path.read_bytes().decode("utf-8-sig")
    templated = _render.has_placeholders(text)
    if templated and render:
        text = _render.render(text)
    try:
        root = etree.fromstring(_strip_declaration(text).encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        skip(f"not well-formed: {exc}")
        return None
    body = extract_body(root)
    if body is None:
        skip("empty SOAP Body")
        return None
    return Sample(
        path=path,
        name=name,
        source=name.split("/", 1)[0],
        body=body,
        soap_version=SOAP_VERSION.get(etree.QName(root).namespace or ""),
        templated=templated,
        role=role_of(path, body),
        soap_action=soap_action_of(path),
    )


def iter_samples(
    *,
    render: bool = True,
    sources: Iterable[str] | None = None,
    skipped: list[Skipped] | None = None,
) -> Iterator[Sample]:
    """Every usable sample (optionally only from ``sources``); unusable files go to ``skipped``."""
    wanted = set(sources) if sources is not None else None
    base = samples_dir()
    for path in iter_sample_files():
        if wanted is not None and base is not None and path.relative_to(base).parts[0] not in wanted:
            continue
        sample = load_sample(path, render=render, skipped=skipped)
        if sample is not None:
            yield sample


def _strip_declaration(text: str) -> str:
    """Drop the XML declaration (the text is re-encoded as UTF-8); a misplaced one stays and fails the parse."""
    return re.sub(r"^<\?xml[^>]*\?>", "", text, count=1)


def extract_body(root: etree._Element) -> etree._Element | None:
    """A standalone copy of the SOAP Body's first child element, or of ``root`` when it is not an envelope."""
    if etree.QName(root).namespace not in SOAP_VERSION or etree.QName(root).localname != "Envelope":
        return copy.deepcopy(root)
    ns = etree.QName(root).namespace
    body = root.find(f"{{{ns}}}Body")
    if body is None:
        return None
    for child in body:
        if isinstance(child.tag, str):
            return copy.deepcopy(child)
    return None


def classify(element: etree._Element) -> Dialect | None:
    """The dialect of a body element, by its namespace: 'zds11' (ZKN), 'zds12' (ZDS), 'stuf', or None."""
    return DIALECT_BY_NAMESPACE.get(etree.QName(element).namespace or "")


# --- request or response, SOAPAction --------------------------------------------------------------------------

_RESPONSE_NAME = re.compile(r"(La01|Du02)$|^(Bv0\d|Fo0\d)Bericht$|^Fault$")


def role_of(path: Path, body: etree._Element) -> Role:
    """Request or response: from the file name (``.request.``/``-response-``/``…Request.xml``; a response-mock
    folder), else from the SoapUI ``_index.json`` (request steps only), else from the body element's name
    (``*La01``, ``*Du02``, ``Bv0xBericht``, ``Fo0xBericht``, ``Fault`` are answers)."""
    lowered = path.name.lower()
    if "response" in lowered or "response-mock" in path.parent.name:
        return "response"
    if "request" in lowered or _soapui_entry(path) is not None:
        return "request"
    return "response" if _RESPONSE_NAME.search(etree.QName(body).localname) else "request"


def soap_action_of(path: Path) -> str | None:
    """The SOAPAction recorded beside a sample: ``*.soapaction.txt``, ``_index.json`` or ``SoapActions.txt``."""
    stem = re.sub(r"\.(request|response)$", "", path.stem)
    sidecar = path.with_name(stem + ".soapaction.txt")
    if sidecar.is_file():
        first = sidecar.read_text("utf-8").strip().splitlines()
        return first[0].strip().strip('"') if first else None
    entry = _soapui_entry(path)
    if entry is not None:
        return entry.get("soapAction")
    actions = _soap_actions_txt(path.parent)
    m = re.match(r"(\d+)\s*-", path.name)
    if actions and m and "request" in path.name.lower():
        return actions.get(m.group(1))
    return None


def _soapui_entry(path: Path) -> dict[str, str] | None:
    base = samples_dir()
    for parent in path.parents:
        index = _soapui_index(parent)
        if index is not None:
            return index.get(path.relative_to(parent).as_posix())
        if parent == base:
            break
    return None


@functools.cache
def _soapui_index(folder: Path) -> dict[str, dict[str, str]] | None:
    index = folder / "_index.json"
    if not index.is_file():
        return None
    return {entry["file"]: entry for entry in json.loads(index.read_text("utf-8"))}


@functools.cache
def _soap_actions_txt(folder: Path) -> dict[str, str]:
    listing = folder / "SoapActions.txt"
    if not listing.is_file():
        return {}
    actions: dict[str, str] = {}
    for line in listing.read_text("utf-8").splitlines():
        m = re.match(r'\s*(\d+)\s*-\s*SOAPAction:\s*"?([^"\s]+)"?', line)
        if m:
            actions[m.group(1)] = m.group(2)
    return actions
