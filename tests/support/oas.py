"""Conformance of ZGW responses with the official OpenAPI specifications in ``reference/zgw-oas``.

The official specs are loaded once per process (YAML, C loader when available). Their ``$ref``s resolve through a
``referencing`` registry in which the whole document is one resource, and bodies are checked with
openapi-schema-validator's OpenAPI 3.0 read validator (``readOnly`` fields may appear, ``writeOnly`` ones may not),
extended where OAS 3.0 needs more than the stock class does:

* ``nullable: true`` also admits ``null`` when the schema has no ``type`` of its own (``nullable`` beside
  ``allOf: [{$ref}]`` is how the ZGW specs write a nullable object) and when it has an ``enum`` that does not list
  ``null`` (OAS 3.0.3's clarification says it must; the ZGW specs were written for the older, looser reading);
* a ``discriminator`` on a plain object schema (the inheritance form used by ``Rol``, ``ZaakObject``) also checks
  the mapped sub-schema, so ``betrokkeneIdentificatie``/``objectIdentificatie`` are validated too;
* formats: ``uri`` must be an absolute URI, ``duration`` an ISO 8601 duration; ``date``, ``date-time``, ``uuid``,
  ``email`` come from the stock checker. (An empty string is no URI: where the specs' DRF origin makes ``""`` the
  usual "no value", callers say so in an allow-list, see ``Allowance``.)

The functions work on a concrete request: the API (``zaken``, ``documenten``, ``catalogi``, ``besluiten``), the
HTTP method, the path relative to the API root (``/zaken/5d1f…``) and the response status. ``split_api_url`` turns
a full URL (``http://x/zaken/api/v1/zaken/5d1f…``) into the first two. A ``Recorder`` attached to an
``httpx.AsyncClient`` keeps every exchange so that a test can validate all responses it saw at once.

Besluiten has two reference specs (VNG 1.0.2 and Open Zaak's 1.1.0): an operation and status that either documents
is accepted, and the response is checked against each spec that documents it.

Where a spec leaves a GET body unspecified (drf-spectacular's "Unspecified response body": Catalogi 1.3.1 for
zaaktypen, besluittypen and informatieobjecttypen), the body is checked against the component schema that the same
spec's write operations on that resource answer with; such problems say ``(fallback: body unspecified)`` in their
schema location.

API::

    validate_response(api, method, path, status, body, *, content_type=..., headers=None) -> list[str]
    check_response(...) -> list[Problem]            # the same, structured; ``allow=`` drops known spec defects
    check_request(api, method, path, body) -> list[Problem]
    recorder = Recorder(); client = httpx.AsyncClient(transport=recorder.transport(inner))  # or recorder.attach(c)
    findings = recorder.validate(allow=...); format_findings(findings, total=...)
"""

from __future__ import annotations

import contextvars
import fnmatch
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from jsonschema import FormatChecker
from jsonschema import _keywords as _js_keywords
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from openapi_schema_validator import _keywords as _oas_keywords
from referencing import Registry
from referencing.jsonschema import DRAFT4

from . import reference

__all__ = [
    "APIS",
    "API_SPECS",
    "Allowance",
    "Exchange",
    "Finding",
    "Operation",
    "Problem",
    "Recorder",
    "RecordingTransport",
    "Spec",
    "check_request",
    "check_response",
    "format_findings",
    "load_spec",
    "optional_property",
    "require_specs",
    "specs_for",
    "split_api_url",
    "validate_exchanges",
    "validate_instance",
    "validate_response",
]

#: The official specs per API, as paths under ``reference/zgw-oas``. The spec name is the file's stem.
API_SPECS: dict[str, tuple[str, ...]] = {
    "zaken": ("zaken-1.5.1.yaml",),
    "documenten": ("documenten-1.4.3.yaml",),
    "catalogi": ("catalogi-1.3.1.yaml",),
    "besluiten": ("besluiten-1.0.2.yaml", "openzaak/besluiten-1.1.0-openzaak.yaml"),
}
APIS = tuple(API_SPECS)
OAS_DIR = ("zgw-oas",)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_ERRORS_PER_RESPONSE = 25

_API_URL = re.compile(r"/(?P<api>zaken|documenten|catalogi|besluiten)/api/v1(?P<path>/.*)?$")

try:  # the C loader is ~10x faster on these 0.5 MB documents
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


# --- problems -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One way in which a response differs from a spec.

    ``where`` is ``operation`` (no such path/method), ``status`` (status not documented), ``content-type``,
    ``header``, ``body``, or ``request`` for a request body (status 0). ``instance_path`` is a JSON path into the
    body (``$.results[0].url``), ``schema_path`` the JSON pointer of the failing keyword in the spec, ``$ref``s
    followed (``#/components/schemas/Zaak/properties/url/format``).
    """

    spec: str
    method: str
    template: str
    status: int
    where: str
    message: str
    instance_path: str = ""
    schema_path: str = ""

    def __str__(self) -> str:
        at = f" at {self.instance_path}" if self.instance_path else ""
        schema = f" [schema {self.schema_path}]" if self.schema_path else ""
        status = f" → {self.status}" if self.status else ""
        return f"{self.spec}: {self.method.upper()} {self.template}{status}: {self.where}{at}: {self.message}{schema}"


@dataclass(frozen=True)
class Allowance:
    """An entry of an allow-list of known defects: a problem it matches is not reported.

    ``spec``, ``method``, ``template`` are shell-style patterns (``*`` matches anything); ``status`` None matches
    any status; ``instance_path`` and ``message`` are regular expressions searched in the problem's fields.
    ``when`` is a further condition on the problem. ``reason`` says why the defect cannot be fixed by an
    implementation and is required.
    """

    reason: str
    spec: str = "*"
    method: str = "*"
    template: str = "*"
    status: int | None = None
    where: str = "*"
    instance_path: str = ""
    message: str = ""
    when: Callable[[Problem], bool] | None = None  # a further condition, e.g. ``optional_property``

    def matches(self, problem: Problem) -> bool:
        return (
            (self.when is None or self.when(problem))
            and fnmatch.fnmatchcase(problem.spec, self.spec)
            and fnmatch.fnmatchcase(problem.method.lower(), self.method.lower())
            and fnmatch.fnmatchcase(problem.template, self.template)
            and (self.status is None or self.status == problem.status)
            and fnmatch.fnmatchcase(problem.where, self.where)
            and re.search(self.instance_path, problem.instance_path) is not None
            and re.search(self.message, problem.message) is not None
        )


def _allowed(problems: Iterable[Problem], allow: Sequence[Allowance]) -> list[Problem]:
    return [p for p in problems if not any(a.matches(p) for a in allow)]


# --- the validator --------------------------------------------------------------------------------------------

# (id(schema), id(instance)) pairs whose discriminator is being followed, so that a mapped sub-schema that
# includes its base again (``natuurlijk_persoon_Rol = allOf[Rol, …]``) does not recurse forever.
_FOLLOWING: contextvars.ContextVar[frozenset[tuple[int, int]]] = contextvars.ContextVar(
    "_FOLLOWING", default=frozenset()
)


def _nullable_aware(keyword: Callable[..., Iterator[ValidationError]]) -> Callable[..., Iterator[ValidationError]]:
    def check(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if instance is None and schema.get("nullable") is True:
            return iter(())
        return keyword(validator, value, instance, schema)

    return check


def _discriminator(
    validator: Any, discriminator: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """OAS 3.0 inheritance: a base schema's discriminator selects the sub-schema to check as well.

    Where the schema also has ``oneOf``/``anyOf``/``allOf``, the stock keywords already use the discriminator.
    """
    if any(k in schema for k in ("oneOf", "anyOf", "allOf")) or not isinstance(instance, dict):
        return
    mapping = discriminator.get("mapping") or {}
    value = instance.get(discriminator.get("propertyName"))
    ref = mapping.get(value) if isinstance(value, str) else None
    if ref is None:
        return  # an unmapped value is for the base schema's own enum to reject
    key = (id(schema), id(instance))
    active = _FOLLOWING.get()
    if key in active:
        return
    token = _FOLLOWING.set(active | {key})
    try:
        # the mapped reference goes into the schema path, for Spec.locate
        yield from validator.descend(instance, {"$ref": ref}, schema_path=ref)
    finally:
        _FOLLOWING.reset(token)


_DURATION = re.compile(
    r"^-?P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?"
    r"(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$"
)
_FORMAT_CHECKER = FormatChecker(formats=())
_FORMAT_CHECKER.checkers = dict(oas30_format_checker.checkers)  # a copy: the stock checker stays as it is


@_FORMAT_CHECKER.checks("uri", raises=ValueError)
def _is_uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if any(c.isspace() for c in instance):
        return False
    parts = urlsplit(instance)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    return bool(parts.netloc) if parts.scheme in ("http", "https") else bool(parts.path or parts.netloc)


@_FORMAT_CHECKER.checks("duration")
def _is_duration(instance: object) -> bool:
    return not isinstance(instance, str) or _DURATION.match(instance) is not None


_KEYWORDS = {
    "$ref": _nullable_aware(_js_keywords.ref),
    "allOf": _nullable_aware(_oas_keywords.allOf),
    "anyOf": _nullable_aware(_oas_keywords.anyOf),
    "oneOf": _nullable_aware(_oas_keywords.oneOf),
    "enum": _nullable_aware(_js_keywords.enum),
    "discriminator": _discriminator,
}
#: responses: readOnly properties may appear (and required ones must), writeOnly ones must not
ResponseValidator: Any = extend(OAS30ReadValidator, validators=_KEYWORDS, format_checker=_FORMAT_CHECKER)
#: request bodies: readOnly properties may be left out and must not be sent
RequestValidator: Any = extend(OAS30WriteValidator, validators=_KEYWORDS, format_checker=_FORMAT_CHECKER)


# --- specs and operations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    spec: Spec
    method: str  # lower case
    template: str  # the spec's path, e.g. '/zaken/{uuid}'
    pointer: str  # JSON pointer of the operation object in the spec
    node: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.node.get("operationId", ""))

    @property
    def statuses(self) -> list[str]:
        return sorted(str(k) for k in self.node.get("responses", {}))

    def parameter_names(self, location: str) -> set[str]:
        params = [*self.spec.path_item(self.template).get("parameters", []), *self.node.get("parameters", [])]
        return {p["name"] for p in (self.spec.resolve(p)[1] for p in params) if p.get("in") == location}


def _pointer(*parts: str) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Spec:
    """One official OpenAPI document."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.document: dict[str, Any] = yaml.load(path.read_text("utf-8"), Loader=_YamlLoader)
        self.uri = path.resolve().as_uri()
        self.version = str(self.document.get("info", {}).get("version", ""))
        self.registry: Registry[Any] = Registry().with_resource(self.uri, DRAFT4.create_resource(self.document))
        self._templates: list[tuple[re.Pattern[str], str]] = []
        for template in self.document.get("paths", {}):
            regex = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
            self._templates.append((re.compile(f"^{regex}$"), template))
        # literal paths first: '/zaken/_zoek' must not be taken for '/zaken/{uuid}'
        self._templates.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
        self._validators: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Spec({self.name!r}, version={self.version!r})"

    # navigation
    def resolve(self, node: Mapping[str, Any], pointer: str = "") -> tuple[str, Mapping[str, Any]]:
        """Follow a chain of local ``$ref``s from ``node`` (found at ``pointer``); the final pointer and object."""
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise ValueError(f"{self.name}: non-local $ref {ref!r}")
            pointer = ref[1:]
            node = self.registry.resolver(self.uri).lookup(f"{self.uri}#{pointer}").contents
            seen += 1
            if seen > 20:
                raise ValueError(f"{self.name}: $ref loop at {ref}")
        return pointer, node

    def path_item(self, template: str) -> Mapping[str, Any]:
        return self.document["paths"][template]

    def match_path(self, path: str) -> str | None:
        """The spec path template that a concrete path (relative to the API root) falls under."""
        path = path.split("?", 1)[0]
        if len(path) > 1:
            path = path.rstrip("/")
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return None

    def match(self, method: str, path: str) -> Operation | None:
        template = self.match_path(path)
        if template is None:
            return None
        item = self.path_item(template)
        node = item.get(method.lower())
        if node is None:
            return None
        return Operation(self, method.lower(), template, _pointer("paths", template, method.lower()), node)

    def operations(self) -> Iterator[Operation]:
        for template, item in self.document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    yield Operation(self, method, template, _pointer("paths", template, method), item[method])

    # validation
    def validator_for(self, pointer: str, *, request: bool = False) -> Any:
        key = ("request:" if request else "") + pointer
        validator = self._validators.get(key)
        if validator is None:
            cls = RequestValidator if request else ResponseValidator
            validator = cls({"$ref": f"{self.uri}#{pointer}"}, registry=self.registry, format_checker=_FORMAT_CHECKER)
            self._validators[key] = validator
        return validator

    def instance_errors(self, pointer: str, instance: Any, *, request: bool = False) -> list[tuple[str, str, str]]:
        """(instance path, schema location, message) for each error of ``instance`` against the schema at
        ``pointer``; the location is the JSON pointer of the failing keyword, ``$ref``s followed. ``request``
        applies the request rules for readOnly/writeOnly."""
        validator = self.validator_for(pointer, request=request)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        out: list[tuple[str, str, str]] = []
        for error in errors:
            # a discriminator's sub-schema repeats its base: keep one copy of each error
            item = (error.json_path, "#" + self.locate(pointer, error.absolute_schema_path), _message(error))
            if item not in out:
                out.append(item)
        if len(out) > MAX_ERRORS_PER_RESPONSE:
            out[MAX_ERRORS_PER_RESPONSE:] = [("$", "", f"… and {len(out) - MAX_ERRORS_PER_RESPONSE} more errors")]
        return out

    def locate(self, pointer: str, schema_path: Iterable[Any]) -> str:
        """The JSON pointer of the keyword that ``schema_path`` (relative to the schema at ``pointer``) ends at.

        jsonschema leaves ``$ref`` out of schema paths, so a reference is followed wherever the next keyword is
        not in the schema that holds the ``$ref``."""
        node: Any = self._lookup(pointer)
        segments = list(schema_path)
        for i, segment in enumerate(segments):
            if isinstance(segment, str) and segment.startswith("#/"):
                pointer, node = segment[1:], self._lookup(segment[1:])  # where a discriminator led
                continue
            while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and segment not in node:
                pointer = node["$ref"][1:]
                node = self._lookup(pointer)
            if segment == "discriminator" and i + 1 < len(segments) and str(segments[i + 1]).startswith("#/"):
                continue
            try:
                node = node[segment]
            except (KeyError, IndexError, TypeError):
                # e.g. a oneOf that a discriminator resolved: the rest is relative to the chosen schema
                return pointer + "/" + "/".join(str(s) for s in segments[i:])
            pointer += _pointer(str(segment))
        return pointer

    def _lookup(self, pointer: str) -> Any:
        return self.registry.resolver(self.uri).lookup(f"{self.uri}#{pointer}").contents

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        content_type: str | None = "application/json",
        headers: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> list[Problem]:
        """All problems of one response against this spec (see ``check_response`` at module level)."""
        matched = self.match_path(path)
        problem = functools.partial(Problem, self.name, method.lower(), matched or path, status)
        operation = self.match(method, path)
        if operation is None:
            if matched is None:
                return [problem("operation", "not an operation of the spec (no such path)")]
            methods = ", ".join(m.upper() for m in HTTP_METHODS if m in self.path_item(matched))
            return [problem("operation", f"not an operation of the spec (the path has {methods})")]

        found = _response_for(operation, status)
        if found is None:
            if status == 304 and "If-None-Match" in operation.parameter_names("header"):
                return []  # the If-None-Match parameter documents the empty 304
            return [problem("status", f"status not documented (documented: {', '.join(operation.statuses)})")]
        _, response_pointer, response = found
        problems: list[Problem] = []

        # headers
        for name, header in (response.get("headers") or {}).items():
            header_pointer, header = self.resolve(header, response_pointer + _pointer("headers", name))
            value = _header(headers, name) if headers is not None else None
            if value is None:
                if headers is not None:
                    required = " (required)" if header.get("required") else ""
                    problems.append(problem("header", f"documented response header {name!r} is missing{required}"))
                continue
            if "schema" in header:
                for _, schema_path, message in self.instance_errors(header_pointer + "/schema", value):
                    problems.append(problem("header", f"{name}: {message}", "", schema_path))

        # content
        content = response.get("content") or {}
        media_type = _media_type(content_type)
        has_body = raw_body != b"" if raw_body is not None else body is not None
        if not content:
            if has_body and method.lower() != "head":
                problems.append(problem("body", "the spec documents no body for this status, the response has one"))
            return problems
        if method.lower() == "head":
            return problems
        key = _match_media_type(media_type, content)
        if key is None:
            problems.append(
                problem("content-type", f"{content_type or 'no Content-Type'} is not one of {', '.join(content)}")
            )
            key = next((k for k in content if _is_json(k)), None) if _is_json(media_type) else None
            if key is None:
                return problems
        if not _is_json(key):
            return problems  # e.g. the download's application/octet-stream: nothing to validate in the bytes
        if body is _NOT_JSON:
            problems.append(problem("body", "the body is not JSON"))
            return problems
        schema = content[key].get("schema")
        if schema is None:
            return problems
        schema_pointer = response_pointer + _pointer("content", key, "schema")
        for instance_path, schema_path, message in self.instance_errors(schema_pointer, body):
            problems.append(problem("body", message, instance_path, schema_path))
        for instance_path, schema_path, message in self._fallback_errors(operation, schema_pointer, body):
            problems.append(problem("body", message, instance_path, schema_path))
        return problems

    def _fallback_errors(self, operation: Operation, schema_pointer: str, body: Any) -> list[tuple[str, str, str]]:
        """Where the spec leaves a GET body (or the items of a list) unspecified, the errors against the schema the
        same spec gives that resource in its write responses (Catalogi 1.3.1 does so for zaaktypen, besluittypen
        and informatieobjecttypen)."""
        if operation.method != "get":
            return []
        schema = self._lookup(schema_pointer)
        items = (
            ((schema.get("properties") or {}).get("results") or {}).get("items")
            if isinstance(schema, Mapping)
            else None
        )
        if _unspecified(schema):
            targets = [("$", body)]
        elif _unspecified(items) and isinstance(body, Mapping) and isinstance(body.get("results"), list):
            targets = [(f"$.results[{i}]", item) for i, item in enumerate(body["results"])]
        else:
            return []
        component = self.fallback_component(operation.template)
        if component is None:
            return []
        out = []
        for prefix, instance in targets:
            for instance_path, schema_path, message in self.instance_errors(component, instance):
                # the location says that the spec itself leaves this body open
                out.append((prefix + instance_path[1:], f"{schema_path} (fallback: body unspecified)", message))
        return out

    def fallback_component(self, template: str) -> str | None:
        """The pointer of the component schema the spec's write operations on ``template``'s resource answer with."""
        collection = re.sub(r"/\{[^}/]+\}$", "", template)
        candidates = [
            (collection, "post", "201"),
            (collection, "post", "200"),
            (collection + "/{uuid}/publish", "post", "200"),
            (collection + "/{uuid}", "put", "200"),
            (collection + "/{uuid}", "patch", "200"),
        ]
        for path, method, status in candidates:
            node = self.document.get("paths", {}).get(path, {}).get(method, {})
            response = node.get("responses", {}).get(status)
            if response is None:
                continue
            _, response = self.resolve(response)
            schema = (response.get("content") or {}).get("application/json", {}).get("schema") or {}
            ref = schema.get("$ref")
            if (
                isinstance(ref, str)
                and ref.startswith("#/components/schemas/")
                and not _unspecified(self._lookup(ref[1:]))
            ):
                return ref[1:]
        return None

    def check_request(
        self, method: str, path: str, body: Any, *, content_type: str | None = "application/json"
    ) -> list[Problem]:
        """Problems of a JSON request body against the operation's ``requestBody`` (status 0 in the problems)."""
        matched = self.match_path(path)
        problem = functools.partial(Problem, self.name, method.lower(), matched or path, 0)
        operation = self.match(method, path)
        if operation is None:
            return [problem("operation", "not an operation of the spec")]
        request_body = operation.node.get("requestBody")
        if request_body is None:
            return [] if body is None else [problem("request", "the operation takes no request body")]
        pointer, request_body = self.resolve(request_body, operation.pointer + "/requestBody")
        content = request_body.get("content") or {}
        key = _match_media_type(_media_type(content_type), content)
        if key is None:
            return [problem("request", f"{content_type} is not one of {', '.join(content)}")]
        if not _is_json(key) or "schema" not in content[key]:
            return []
        schema_pointer = pointer + _pointer("content", key, "schema")
        errors = self.instance_errors(schema_pointer, body, request=True)
        if operation.method == "patch":
            # a partial update: some specs (Besluiten 1.0.2) give PATCH the full schema with its `required`
            errors = [e for e in errors if not e[2].endswith("is a required property")]
        return [
            problem("request", message, instance_path, schema_path) for instance_path, schema_path, message in errors
        ]


def _unspecified(schema: Any) -> bool:
    """drf-spectacular's placeholder for a body it could not describe."""
    return isinstance(schema, Mapping) and schema.get("description") == "Unspecified response body"


def _response_for(operation: Operation, status: int) -> tuple[str, str, Mapping[str, Any]] | None:
    responses = operation.node.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            pointer, response = operation.spec.resolve(responses[key], operation.pointer + _pointer("responses", key))
            return key, pointer, response
    return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, httpx.Headers):
        return headers.get(name)
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _match_media_type(media_type: str, content: Mapping[str, Any]) -> str | None:
    for key in content:
        k = key.lower()
        if k == media_type or k == "*/*" or (k.endswith("/*") and media_type.startswith(k[:-1])):
            return key
    return None


def _message(error: ValidationError) -> str:
    if error.context:
        deepest = best_match(error.context)
        where = deepest.json_path.replace(error.json_path, "", 1) if deepest.json_path != error.json_path else ""
        return f"{_short(error.message)} (closest: {where + ': ' if where else ''}{_short(deepest.message)})"
    return _short(error.message)


def _short(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters; the middle (usually a long instance repr) gives way, the verdict stays."""
    return text if len(text) <= limit else text[: limit // 2] + "…" + text[-(limit // 2 - 1) :]


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON: Any = _NotJson()


# --- loading --------------------------------------------------------------------------------------------------


def spec_path(relative: str) -> Path | None:
    ref = reference.reference_dir()
    if ref is None:
        return None
    path = ref.joinpath(*OAS_DIR, relative)
    return path if path.is_file() else None


@functools.cache
def load_spec(relative: str) -> Spec:
    """The spec ``reference/zgw-oas/<relative>``, loaded once; FileNotFoundError when it is absent."""
    path = spec_path(relative)
    if path is None:
        raise FileNotFoundError(f"official spec not found: reference/zgw-oas/{relative}")
    return Spec(Path(relative).stem, path)


def specs_for(api: str) -> list[Spec]:
    """The official specs of one API (two for besluiten)."""
    try:
        files = API_SPECS[api]
    except KeyError:
        raise ValueError(f"unknown ZGW API {api!r}; use one of {APIS}") from None
    return [load_spec(f) for f in files]


def require_specs() -> dict[str, list[Spec]]:
    """All specs by API; skips the calling test (or module) when ../shared or a spec file is absent."""
    for files in API_SPECS.values():
        for relative in files:
            reference.require_reference(*OAS_DIR, relative)
    return {api: specs_for(api) for api in API_SPECS}


def optional_property(problem: Problem) -> bool:
    """Whether a body problem is about a property its schema does not list in ``required`` (for ``Allowance.when``).

    The property is the one whose keyword ``problem.schema_path`` points into
    (``#/components/schemas/Zaak/properties/communicatiekanaal/format`` → ``communicatiekanaal`` of ``Zaak``)."""
    m = re.match(r"^#(?P<schema>.*)/properties/(?P<name>[^/]+)/[^/]+$", problem.schema_path)
    if m is None or problem.where != "body":
        return False
    spec = next((s for specs in (specs_for(api) for api in APIS) for s in specs if s.name == problem.spec), None)
    if spec is None:
        return False
    try:
        schema = spec._lookup(m["schema"])
    except Exception:  # noqa: BLE001 - an unresolvable pointer is simply not optional
        return False
    name = m["name"].replace("~1", "/").replace("~0", "~")
    return isinstance(schema, Mapping) and name not in (schema.get("required") or [])


# --- the public checks ----------------------------------------------------------------------------------------


def split_api_url(url: str | httpx.URL) -> tuple[str, str] | None:
    """``(api, path relative to the API root)`` of a ZGW URL, or None when it is not under ``/<api>/api/v1``."""
    path = httpx.URL(str(url)).path
    m = _API_URL.search(path)
    if m is None:
        return None
    return m.group("api"), m.group("path") or "/"


def check_response(
    api: str,
    method: str,
    path: str,
    status: int,
    body: Any,
    *,
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
    raw_body: bytes | None = None,
    spec: str | None = None,
    allow: Sequence[Allowance] = (),
) -> list[Problem]:
    """Problems of one response against every official spec of ``api`` (or only the one named ``spec``).

    ``body`` is the parsed JSON body (None when there is none). ``content_type`` is the response's Content-Type;
    it must be one that the spec documents for the status. ``headers``, when given, are the response headers:
    every header the spec documents for the status must then be present and match its schema. Problems that an
    entry of ``allow`` matches are dropped.

    Where an API has several reference specs (Besluiten 1.0.2 and 1.1.0), an operation or status that one of them
    documents is enough (1.1.0 adds HEAD, for instance); the response is then checked against every spec that
    documents it.
    """
    per_spec = [
        s.check_response(method, path, status, body, content_type=content_type, headers=headers, raw_body=raw_body)
        for s in specs_for(api)
        if spec is None or s.name == spec
    ]
    documented = [found for found in per_spec if not any(p.where in ("operation", "status") for p in found)]
    problems = [p for found in (documented or per_spec) for p in found]
    return _allowed(problems, allow)


def validate_response(
    api: str,
    method: str,
    path: str,
    status: int,
    body: Any,
    *,
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
    spec: str | None = None,
    allow: Sequence[Allowance] = (),
) -> list[str]:
    """``check_response`` as readable strings: an empty list means the response conforms."""
    found = check_response(
        api, method, path, status, body, content_type=content_type, headers=headers, spec=spec, allow=allow
    )
    return [str(p) for p in found]


def check_request(
    api: str,
    method: str,
    path: str,
    body: Any,
    *,
    content_type: str | None = "application/json",
    spec: str | None = None,
) -> list[Problem]:
    """Problems of a JSON request body against every official spec of ``api`` (or the one named ``spec``)."""
    problems: list[Problem] = []
    for s in specs_for(api):
        if spec is None or s.name == spec:
            problems += s.check_request(method, path, body, content_type=content_type)
    return problems


def validate_instance(api: str, schema_name: str, instance: Any, *, spec: str | None = None) -> list[str]:
    """Errors of ``instance`` against ``#/components/schemas/<schema_name>`` of the API's spec(s)."""
    out = []
    for s in specs_for(api):
        if spec is None or s.name == spec:
            for instance_path, schema_path, message in s.instance_errors(
                _pointer("components", "schemas", schema_name), instance
            ):
                out.append(f"{s.name}: {instance_path}: {message} [schema {schema_path}]")
    return out


# --- recording ------------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request and its response, as seen by an httpx client."""

    method: str
    url: str
    request_headers: httpx.Headers
    request_body: bytes
    status: int
    headers: httpx.Headers
    content: bytes
    label: str = ""  # what the scenario was doing, when the recorder knew
    excluded: str = ""  # why this exchange is not to be validated (e.g. the route does not exist yet)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def api_path(self) -> tuple[str, str] | None:
        return split_api_url(self.url)

    def json(self) -> Any:
        """The parsed body; None for an empty body; a marker that fails validation when it is not JSON."""
        if not self.content:
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return _NOT_JSON

    def describe(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"{self.method} {self.url} → {self.status}{label}"


@dataclass
class Finding:
    exchange: Exchange
    problems: list[Problem]


class Recorder:
    """Keeps every exchange made through the clients it is attached to.

    Use ``recorder.transport(inner)`` as the client's transport (sees every request, streamed ones included), or
    ``recorder.attach(client)`` to add it as a response event hook to an existing client. ``step(label)`` names
    the exchanges that follow, for readable failure messages.
    """

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.label = ""

    def step(self, label: str) -> None:
        self.label = label

    def transport(self, inner: httpx.AsyncBaseTransport) -> RecordingTransport:
        return RecordingTransport(inner, self)

    def attach(self, client: httpx.AsyncClient) -> httpx.AsyncClient:
        hooks = client.event_hooks
        hooks.setdefault("response", []).append(self.on_response)
        client.event_hooks = hooks
        return client

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        self.record(response.request, response)

    def record(self, request: httpx.Request, response: httpx.Response) -> Exchange:
        try:
            request_body = request.content
        except httpx.RequestNotRead:
            request_body = b""
        exchange = Exchange(
            method=request.method,
            url=str(request.url),
            request_headers=request.headers,
            request_body=request_body,
            status=response.status_code,
            headers=response.headers,
            content=response.content,
            label=self.label,
        )
        self.exchanges.append(exchange)
        return exchange

    def validate(
        self,
        *,
        allow: Sequence[Allowance] = (),
        check_headers: bool = True,
        include: Callable[[Exchange], bool] | None = None,
    ) -> list[Finding]:
        return validate_exchanges(self.exchanges, allow=allow, check_headers=check_headers, include=include)


class RecordingTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that hands each request to ``inner`` and records the exchange."""

    def __init__(self, inner: httpx.AsyncBaseTransport, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        recorded = httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )
        # ``content`` is already decoded by aread(); keep the headers but drop the encoding so that it is not
        # decoded twice
        if "content-encoding" in recorded.headers:
            del recorded.headers["content-encoding"]
        self.recorder.record(request, recorded)
        return recorded

    async def aclose(self) -> None:
        await self.inner.aclose()


def validate_exchanges(
    exchanges: Iterable[Exchange],
    *,
    allow: Sequence[Allowance] = (),
    check_headers: bool = True,
    include: Callable[[Exchange], bool] | None = None,
) -> list[Finding]:
    """Validate every exchange under a ZGW API root (and not ``excluded``); one ``Finding`` per non-conforming
    response."""
    findings = []
    for exchange in exchanges:
        where = exchange.api_path
        if where is None or exchange.excluded or (include is not None and not include(exchange)):
            continue
        api, path = where
        problems = check_response(
            api,
            exchange.method,
            path,
            exchange.status,
            exchange.json(),
            content_type=exchange.content_type,
            headers=exchange.headers if check_headers else None,
            raw_body=exchange.content,
            allow=allow,
        )
        if problems:
            findings.append(Finding(exchange, problems))
    return findings


def format_findings(findings: Sequence[Finding], *, total: int | None = None, limit: int = 80) -> str:
    """A failure message: each distinct problem with how often it occurred, then the responses (up to ``limit``
    problem lines) with their problems."""
    distinct: dict[str, int] = {}
    for finding in findings:
        for p in finding.problems:
            key = (
                f"{p.spec}: {p.method.upper()} {p.template} → {p.status}: {p.where}"
                f"{' at ' + _generic_path(p.instance_path) if p.instance_path else ''}: {_generic_message(p.message)}"
                f"{' [schema ' + p.schema_path + ']' if p.schema_path else ''}"
            )
            distinct[key] = distinct.get(key, 0) + 1
    lines = [f"{len(findings)} of {total if total is not None else '?'} responses do not conform; distinct problems:"]
    lines += [f"  {n:3d}× {key}" for key, n in sorted(distinct.items())]
    lines.append("responses:")
    shown = 0
    for finding in findings:
        if shown >= limit:
            break
        lines.append(f"- {finding.exchange.describe()}")
        for p in finding.problems:
            lines.append(f"    {p}")
            shown += 1
    rest = sum(len(f.problems) for f in findings) - shown
    if rest > 0:
        lines.append(f"  … and {rest} more problems")
    return "\n".join(lines)


def _generic_path(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def _generic_message(message: str) -> str:
    message = re.sub(r"urn:uuid:[0-9a-f-]{36}", "urn:uuid:…", message)
    return re.sub(r"'[^']{40,}'", "'…'", message)
