"""Errors as ``application/problem+json``, in the shape and with the codes Open Zaak uses.

Tree::

    ApiError                       any error answered as a problem document
    ├── ValidationFailed (400)     ``ValidatieFout`` with ``invalidParams[{name, code, reason}]``
    ├── NotFound (404)
    ├── PermissionDenied (403)     Open Zaak answers 403 for missing and invalid tokens alike
    ├── PreconditionFailed (412)   missing ``Accept-Crs``/``Content-Crs``
    ├── NotAcceptable (406)        unsupported CRS
    └── UnsupportedMediaType (415)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from .refs import base_url, render

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class InvalidParam:
    name: str
    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "code": self.code, "reason": self.reason}


class ApiError(Exception):
    """A problem answer. Each kind is declared by its class line: ``status``, ``code`` and ``title`` as Open Zaak
    answers them; ``kind`` (the ``type`` URL's last part, Django REST framework's exception name) defaults to the
    class name."""

    status = 500
    code = "error"
    title = "Er is een serverfout opgetreden."
    kind = "APIException"

    def __init_subclass__(cls, *, status: int, code: str, title: str, kind: str | None = None) -> None:
        super().__init_subclass__()
        cls.status, cls.code, cls.title, cls.kind = status, code, title, kind or cls.__name__

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or self.title
        if code:
            self.code = code
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "status": self.status, "detail": self.detail}


class ValidationFailed(ApiError, status=400, code="invalid", title="Ongeldige invoer.", kind="ValidationError"):
    def __init__(self, params: list[InvalidParam]) -> None:
        self.params = params
        super().__init__(self.title)

    @classmethod
    def one(cls, name: str, code: str, reason: str) -> ValidationFailed:
        return cls([InvalidParam(name, code, reason)])

    def body(self) -> dict[str, Any]:
        return {**super().body(), "invalidParams": [p.as_json() for p in self.params]}


class NotFound(ApiError, status=404, code="not_found", title="Niet gevonden."): ...


class PermissionDenied(ApiError, status=403, code="permission_denied",
                       title="Je hebt geen toestemming om deze actie uit te voeren."): ...


class PreconditionFailed(ApiError, status=412, code="precondition_failed", title="Precondition failed"): ...


class NotAcceptable(ApiError, status=406, code="not_acceptable",
                    title="Kan niet voldoen aan de opgegeven Accept header."): ...


class UnsupportedMediaType(ApiError, status=415, code="unsupported_media_type",
                           title="Ongeldige media type in aanvraag."): ...


class MethodNotAllowed(ApiError, status=405, code="method_not_allowed", title="Methode niet toegestaan."): ...


def problem_response(request: Request, error: ApiError) -> Response:
    base = base_url(request)
    document = {
        "type": f"{base}ref/fouten/{error.kind}/",
        **error.body(),
        "instance": f"urn:uuid:{uuid.uuid4()}",
    }
    return Response(render(document, base), status_code=error.status, media_type=PROBLEM_JSON)


# pydantic error type → the code Django REST framework (and so Open Zaak) uses
_PYDANTIC_CODES = {
    "missing": "required",
    "string_too_long": "max_length",
    "too_long": "max_length",
    "string_too_short": "min_length",
    "too_short": "min_length",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "greater_than_equal": "min_value",
    "less_than_equal": "max_value",
    "string_pattern_mismatch": "invalid",
}


def pydantic_params(errors: Sequence[Any], *, strip_first: bool = True) -> list[InvalidParam]:
    params = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if strip_first and loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        # pydantic names union members and tagged variants in loc; keep field names and list indices
        loc = [p for p in loc if isinstance(p, int) or not _is_type_tag(str(p))]
        name = ".".join(str(p) for p in loc) or "nonFieldErrors"
        etype = err.get("type", "invalid")
        if etype == "json_invalid":
            params.append(InvalidParam("nonFieldErrors", "parse_error", "JSON parse error."))
            continue
        if etype in ("model_attributes_type", "dict_type", "model_type") and not loc:
            params.append(InvalidParam("nonFieldErrors", "invalid", "Ongeldige data. Verwachtte een dictionary."))
            continue
        inp = err.get("input", ...)
        if inp is None and etype not in ("missing",):
            code = "null"
            reason = "Dit veld mag niet leeg zijn."
        elif etype == "string_too_short" and inp == "":
            code = "blank"
            reason = "Dit veld mag niet leeg zijn."
        else:
            code = _PYDANTIC_CODES.get(etype, etype if etype in _CUSTOM_CODES else "invalid")
            reason = err.get("msg", "Ongeldige waarde.")
            if code == "required":
                reason = "Dit veld is vereist."
        params.append(InvalidParam(name, code, reason))
    # one entry per field and code, in order
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in params:
        if (p.name, p.code) not in seen:
            seen.add((p.name, p.code))
            unique.append(p)
    return unique


_CUSTOM_CODES = {"null_characters_not_allowed", "invalid", "invalid_choice", "blank", "max_length"}


def _is_type_tag(part: str) -> bool:
    # pydantic adds e.g. "str", "literal['a','b']", "function-after[...]" for union members
    return part in ("str", "int", "float", "bool", "dict", "list", "none") or "[" in part or part.startswith(
        "function-"
    )


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(request, ValidationFailed(pydantic_params(list(exc.errors()))))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error: ApiError = NotFound()
        elif exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, ...)
            error = ValidationFailed.one("nonFieldErrors", "parse_error", str(exc.detail))
        elif exc.status_code == 405:
            error = MethodNotAllowed(f'Methode "{request.method}" niet toegestaan.')
        else:
            error = ApiError(str(exc.detail))
            error.status = exc.status_code
        return problem_response(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("embedded ZGW backend: unexpected error on %s %s", request.method, request.url.path)
        return problem_response(request, ApiError())
