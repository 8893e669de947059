"""Request and response plumbing shared by the four APIs: JSON out, query parameters in, pagination."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .db import Database, Where
from .problems import NotAcceptable, NotFound, PreconditionFailed, UnsupportedMediaType, ValidationFailed
from .refs import absolute, base_url, local_target, render

API_VERSIONS = {"zaken": "1.5.1", "documenten": "1.4.3", "catalogi": "1.3.1", "besluiten": "1.1.0"}
CRS = "EPSG:4326"


class ApiVersionHeader:
    """Adds ``API-version`` to every answer below ``/<api>/api/v1/`` (pure ASGI, streaming untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        route_path = scope["path"].removeprefix(root)
        api = route_path.strip("/").split("/", 1)[0]
        version = API_VERSIONS.get(api)
        if version is None:
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"api-version", version.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


class HeadAsGet:
    """``HEAD`` answered as ``GET`` without the body (the OAS offers HEAD on every detail endpoint)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def state(request: Request) -> Any:
    return request.app.state.zgw


def db(request: Request) -> Database:
    database: Database = state(request).db
    return database


def respond(request: Request, document: Any, status: int = 200, headers: Mapping[str, str] | None = None
            ) -> Response:
    """JSON out, references rendered for this request. A single resource read with GET/HEAD gets an ``ETag`` and
    answers ``If-None-Match`` with 304, as Open Zaak does."""
    body = render(document, base_url(request))
    if request.method in ("GET", "HEAD") and status == 200 and isinstance(document, dict) and "url" in document:
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        headers = {**(headers or {}), "ETag": etag}
        wanted = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
        if etag in wanted or "*" in wanted:
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def created(request: Request, document: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    location = absolute(document["url"], base_url(request))
    return respond(request, document, 201, {"Location": location, **(headers or {})})


def no_content() -> Response:
    return Response(status_code=204)


# --- headers ----------------------------------------------------------------------------------------------------
async def require_crs(request: Request) -> None:
    """The Zaken API's geo negotiation, as vng-api-common's GeoMixin does it."""
    if request.method in ("POST", "PUT", "PATCH"):
        content_crs = request.headers.get("content-crs")
        if content_crs is None:
            raise PreconditionFailed("'Content-Crs' header ontbreekt")
        if content_crs != CRS:
            raise NotAcceptable(f"CRS '{content_crs}' is niet ondersteund")
    accept_crs = request.headers.get("accept-crs")
    if accept_crs is None:
        raise PreconditionFailed("'Accept-Crs' header ontbreekt")
    if accept_crs != CRS:
        raise NotAcceptable(f"CRS '{accept_crs}' is niet ondersteund")


CRS_HEADERS = {"Content-Crs": CRS}


async def require_json(request: Request) -> None:
    if request.method in ("POST", "PUT", "PATCH"):
        ctype = request.headers.get("content-type", "")
        if ctype and ctype.split(";")[0].strip().lower() not in ("application/json", "application/problem+json"):
            raise UnsupportedMediaType(f'Ongeldige media type "{ctype}" in aanvraag.')


# --- query parameters -------------------------------------------------------------------------------------------
class Query:
    """Typed access to the query string of a list endpoint; unknown parameters are refused as Open Zaak does
    (``page`` is known only where there are pages)."""

    def __init__(self, request: Request, allowed: Iterable[str], source: dict[str, Any] | None = None,
                 *, paginated: bool = True) -> None:
        self.request = request
        self.params: Any = request.query_params if source is None else source
        self.base = base_url(request)
        allowed_set = set(allowed) | ({"page"} if paginated else set())
        unknown = sorted(set(self.params.keys()) - allowed_set)
        if unknown:
            raise ValidationFailed.one(
                "nonFieldErrors", "unknown-parameters",
                f"Onbekende query parameters: {', '.join(unknown)}",
            )

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        return str(value) if value not in (None, "") else None

    def texts(self, name: str) -> list[str] | None:
        value = self.params.get(name)
        if isinstance(value, list):
            return [str(v) for v in value]
        text = self.text(name)
        return [v for v in text.split(",") if v] if text is not None else None

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            raise ValidationFailed.one(name, "invalid_choice",
                                       f"Selecteer een geldige keuze. {value} is geen beschikbare keuze.")
        return value

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise ValidationFailed.one(name, "invalid", "Voer een geldige waarde in.")

    def day(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationFailed.one(name, "invalid", "Voer een geldige datum in.") from None

    def moment(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
            (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValidationFailed.one(name, "invalid", "Voer een geldige datum/tijd in.") from None
        return value

    def ref(self, name: str, *kinds: str) -> str | None:
        """A URL filter as a stored marker; a URL of another backend can match nothing."""
        value = self.text(name)
        if value is None:
            return None
        return self._ref(name, value, kinds)

    def refs(self, name: str, *kinds: str) -> list[str] | None:
        values = self.texts(name)
        return None if values is None else [self._ref(name, v, kinds) for v in values]

    def _ref(self, name: str, value: str, kinds: Sequence[str]) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValidationFailed.one(name, "invalid", "Voer een geldige URL in.")
        target = local_target(value, self.base)
        if target is None or (kinds and target.kind not in kinds):
            return "\uffffno-match"
        return target.marker


# --- pagination -------------------------------------------------------------------------------------------------
def page_number(request: Request) -> int:
    raw = request.query_params.get("page")
    if raw is None:
        return 1
    try:
        page = int(raw)
    except ValueError:
        raise NotFound("Ongeldige pagina.") from None
    if page < 1:
        raise NotFound("Ongeldige pagina.")
    return page


def paginate(
    request: Request,
    where: Where,
    api_path: str,
    render_page: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    *,
    order: str = "seq",
) -> Response:
    """A paginated list (``count``, ``next``, ``previous``, ``results``) with absolute page links."""
    database = db(request)
    size = state(request).config.page_size
    page = page_number(request)
    total = database.count(where)
    pages = max(1, math.ceil(total / size))
    if page > pages:
        raise NotFound("Ongeldige pagina.")
    rows = database.select(where, order=order, limit=size, offset=(page - 1) * size)

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        items = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        if number > 1:
            items.append(("page", str(number)))
        query = urlencode(items)
        return base_url(request) + api_path + (f"?{query}" if query else "")

    document = {
        "count": total,
        "next": link(page + 1 if page < pages else None),
        "previous": link(page - 1 if page > 1 else None),
        "results": render_page(rows),
    }
    return respond(request, document)


def query_doc(*names: str, paginated: bool = True) -> dict[str, Any]:
    """OpenAPI ``parameters`` for query parameters read through :class:`Query`."""
    params = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]
    if paginated:
        params.append({"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}})
    return {"parameters": params}
