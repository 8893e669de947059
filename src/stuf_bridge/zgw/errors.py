"""ZGW errors as typed exceptions. httpx exceptions are translated here and nowhere else.

    StufBridgeError (stuf_bridge.errors)
    └── ZgwError                        method, url, status, code, title, detail, invalid_params; str() = summary
        ├── ZgwClientError              4xx not listed below (406, 415, …)
        │   ├── ZgwValidationError      400 (invalidParams)
        │   │   └── ZgwLockError        400 about a document's lock (Documenten API; ``lock_code``)
        │   │       ├── ZgwWrongLock        incorrect-lock-id: locked with another lock
        │   │       ├── ZgwLockMissing      missing-lock-id: locked, and the call gave no lock
        │   │       ├── ZgwNotLocked        unlocked: the call needs a lock the document does not have
        │   │       └── ZgwLocked           existing-lock: the document is locked already
        │   ├── ZgwAuthError            401, 403 (the gateway's own credentials)
        │   ├── ZgwNotFound             404, 410
        │   ├── ZgwConflict             409
        │   ├── ZgwPreconditionFailed   412
        │   └── ZgwTooLarge             413 from the Documenten API (its own size limit)
        ├── ZgwServerError              5xx
        ├── ZgwUnavailable              connection refused, DNS, TLS, dropped connection, connect timeout, 429
        ├── ZgwTimeout                  no (complete) answer within zgw_timeout
        ├── ZgwBadResponse              a 2xx answer that is not the JSON the call expects
        └── ZgwAmbiguous                several objects for one identificatie
                                        (``what``, ``identificatie``, ``candidates``)

The catalogue's misses are ``zgw.catalogue.CatalogueLookupError``. None of these knows StUF: which fault an error
becomes (StUF code, plek, omschrijving, reason) is decided in one table, ``stuf_bridge.faults``.

The summary (``str(err)``) is one line a StUF fault's ``details`` can quote, at most 1000 characters and without
the query string (which may hold a BSN), e.g.
``POST /zaken/api/v1/zaken → 400 identificatie-niet-uniek: identificatie: Deze identificatie bestaat al``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx

from ..errors import DETAILS_MAX, StufBridgeError, clip

SUMMARY_MAX = DETAILS_MAX


@dataclass(frozen=True)
class InvalidParam:
    """One entry of a ZGW ``invalidParams`` list."""

    name: str
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.code}: {self.name}: {self.reason}" if self.name else f"{self.code}: {self.reason}"


class ZgwError(StufBridgeError):
    """Base of every error met while talking to a ZGW API."""

    def __init__(
        self,
        summary: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        invalid_params: tuple[InvalidParam, ...] = (),
    ):
        self.summary = clip(summary, SUMMARY_MAX) or ""
        super().__init__(self.summary)
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.invalid_params = invalid_params

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary!r})"

    @classmethod
    def refining(cls, error: ZgwError) -> Self:
        """This (more specific) class for what ``error`` says: the same summary and problem fields."""
        return cls(
            error.summary,
            method=error.method,
            url=error.url,
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            invalid_params=error.invalid_params,
        )


class ZgwClientError(ZgwError):
    """The API refused the request (4xx)."""


class ZgwValidationError(ZgwClientError):
    """400: the request body or query did not validate; see ``invalid_params``."""


class ZgwAuthError(ZgwClientError):
    """401/403: the gateway's credentials (JWT, client id, scopes) are not accepted."""


class ZgwNotFound(ZgwClientError):
    """404/410: the resource does not exist (any more)."""


class ZgwConflict(ZgwClientError):
    """409: the resource is in a state that forbids the change."""


class ZgwPreconditionFailed(ZgwClientError):
    """412: a required header (e.g. Accept-Crs/Content-Crs) or precondition is missing."""


class ZgwTooLarge(ZgwClientError):
    """413 from the Documenten API: the content is larger than the backend accepts."""


class ZgwLockError(ZgwValidationError):
    """400 about a document's lock; ``lock_code`` is the Documenten API's invalidParams code."""

    lock_code = ""


class ZgwWrongLock(ZgwLockError):
    """The document is locked with another lock than the one given."""

    lock_code = "incorrect-lock-id"


class ZgwLockMissing(ZgwLockError):
    """The document is locked and the call gave no lock."""

    lock_code = "missing-lock-id"


class ZgwNotLocked(ZgwLockError):
    """The call needs a lock and the document has none."""

    lock_code = "unlocked"


class ZgwLocked(ZgwLockError):
    """The document is locked already (a second lock)."""

    lock_code = "existing-lock"


#: The lock errors by invalidParams code, in the order they are recognised when one answer names several.
LOCK_ERRORS: dict[str, type[ZgwLockError]] = {cls.lock_code: cls for cls in (ZgwWrongLock, ZgwLockMissing,
                                                                          ZgwNotLocked, ZgwLocked)}


class ZgwServerError(ZgwError):
    """The API failed (5xx)."""


class ZgwUnavailable(ZgwError):
    """The API could not be reached or refused service for now (connection errors, 429)."""


class ZgwTimeout(ZgwError):
    """No (complete) answer within the timeout. ``may_have_succeeded`` is true for writes: the server may have
    processed the request before the answer was lost, so a compensating step must look before it acts."""

    def __init__(self, summary: str, *, may_have_succeeded: bool = False, **kwargs: Any):
        super().__init__(summary, **kwargs)
        self.may_have_succeeded = may_have_succeeded


class ZgwBadResponse(ZgwError):
    """A successful status with a body that is not what the call expects (not JSON, wrong shape)."""


class ZgwAmbiguous(ZgwError):
    """Several objects of one resource carry the identificatie the caller looked for (an identificatie is unique
    per organisation only). ``what`` names the kind of object (Zaak, Document, Besluit), ``candidates`` their URLs."""

    def __init__(self, what: str, identificatie: str, candidates: Sequence[str], **kwargs: Any):
        self.what = what
        self.identificatie = identificatie
        self.candidates = tuple(candidates)
        super().__init__(
            f"{len(self.candidates)} {what.lower()} objects have identificatie {identificatie!r}: "
            + ", ".join(self.candidates),
            **kwargs,
        )


_BY_STATUS: dict[int, type[ZgwError]] = {
    400: ZgwValidationError,
    401: ZgwAuthError,
    403: ZgwAuthError,
    404: ZgwNotFound,
    409: ZgwConflict,
    410: ZgwNotFound,
    412: ZgwPreconditionFailed,
    429: ZgwUnavailable,
}

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_class_for(status: int) -> type[ZgwError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ZgwClientError
    if status >= 500:
        return ZgwServerError
    return ZgwBadResponse


def _invalid_params(value: Any) -> tuple[InvalidParam, ...]:
    if not isinstance(value, list):
        return ()
    params = []
    for item in value:
        if isinstance(item, dict):
            params.append(
                InvalidParam(str(item.get("name") or ""), str(item.get("code") or ""), str(item.get("reason") or ""))
            )
    return tuple(params)


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body, or an empty dict when the body is something else (an HTML proxy page, …)."""
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _where(method: str, url: httpx.URL) -> str:
    return f"{method} {url.path}"


def error_from_response(response: httpx.Response) -> ZgwError:
    """The typed error for a non-2xx response; the body must have been read."""
    request = response.request
    problem = _problem(response)
    code = problem.get("code")
    title = problem.get("title")
    detail = problem.get("detail")
    params = _invalid_params(problem.get("invalidParams"))
    if params:
        explanation = "; ".join(str(p) for p in params)
    elif code or detail or title:
        explanation = ": ".join(str(part) for part in (code, detail or title) if part)
    else:
        text = " ".join(response.text.split())[:200] if "html" not in response.headers.get("content-type", "") else ""
        explanation = ": ".join(part for part in (response.reason_phrase, text) if part)
    summary = f"{_where(request.method, request.url)} → {response.status_code} {explanation}".rstrip()
    cls = error_class_for(response.status_code)
    return cls(
        summary,
        method=request.method,
        url=str(request.url),
        status=response.status_code,
        code=str(code) if code is not None else None,
        title=str(title) if title is not None else None,
        detail=str(detail) if detail is not None else None,
        invalid_params=params,
    )


def error_from_exception(exc: httpx.HTTPError, request: httpx.Request, timeout: float | None = None) -> ZgwError:
    """Translate an httpx transport exception raised for ``request``."""
    where = _where(request.method, request.url)
    kind = type(exc).__name__
    reason = str(exc) or kind
    common: dict[str, Any] = {"method": request.method, "url": str(request.url), "detail": reason}
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        limit = f" binnen {timeout:g} s" if timeout else ""
        return ZgwTimeout(
            f"{where} → geen antwoord{limit} ({kind})",
            may_have_succeeded=request.method in _WRITES and not isinstance(exc, httpx.PoolTimeout),
            **common,
        )
    if isinstance(exc, httpx.TransportError):
        return ZgwUnavailable(f"{where} → niet bereikbaar ({kind}: {reason})", **common)
    return ZgwBadResponse(f"{where} → {kind}: {reason}", **common)


def bad_response(response: httpx.Response, reason: str) -> ZgwBadResponse:
    request = response.request
    return ZgwBadResponse(
        f"{_where(request.method, request.url)} → {response.status_code} {reason}",
        method=request.method,
        url=str(request.url),
        status=response.status_code,
        detail=reason,
    )
