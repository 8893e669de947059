"""Fixtures for the conformance checks of the embedded ZGW backend (``stuf_bridge.zgw_embedded``).

The checks need two things and skip, saying which, when either is absent: the official OpenAPI specs under
``../shared/reference/zgw-oas`` and the embedded backend itself. The backend runs in-process over
``httpx.ASGITransport``, its lifespan running, seeded with its demo catalogue, and every exchange goes through a
``tests.support.oas.Recorder``.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support import oas

EMBEDDED_MODULE = "stuf_bridge.zgw_embedded"
DEMO_CATALOGUE = "demo-catalogue.yaml"
CLIENT_ID = "conformance-tests"
SECRET = "conformance-tests-secret-0123456789abcdef"  # >= 32 bytes: PyJWT warns about shorter HMAC keys
BASE_URL = "http://zgw.test"
CRS = "EPSG:4326"
SCENARIO_PAGE_SIZE = 3


# --- the backend ------------------------------------------------------------------------------------------------


def embedded_backend() -> ModuleType:
    """The embedded backend package; skips when it does not exist (yet) or lacks ``create_app``/``EmbeddedConfig``.

    An import error *inside* the package is a failure, not a skip."""
    try:
        module = importlib.import_module(EMBEDDED_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and EMBEDDED_MODULE.startswith(exc.name):
            pytest.skip(f"the embedded ZGW backend ({EMBEDDED_MODULE}) does not exist yet")
        raise
    missing = [name for name in ("create_app", "EmbeddedConfig") if not hasattr(module, name)]
    if missing:
        pytest.skip(f"{EMBEDDED_MODULE} does not export {', '.join(missing)} yet")
    return module


def demo_catalogue(module: ModuleType) -> Path | None:
    """The backend's demo catalogue (its ``DEMO_CATALOGUE``, else the file beside the package), if there is one."""
    path = Path(getattr(module, "DEMO_CATALOGUE", None) or Path(module.__file__ or "").parent / DEMO_CATALOGUE)
    return path if path.is_file() else None


def make_config(module: ModuleType, data_dir: Path, *, seed: bool = True, **overrides: Any) -> Any:
    """An ``EmbeddedConfig`` for the tests; only the arguments its signature has are passed."""
    wanted: dict[str, Any] = {"data_dir": data_dir, "client_id": CLIENT_ID, "secret": SECRET}
    catalogue = demo_catalogue(module)
    if seed and catalogue is not None:
        wanted["seed_file"] = catalogue
    wanted.update(overrides)
    try:
        params = inspect.signature(module.EmbeddedConfig).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return module.EmbeddedConfig(**wanted)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return module.EmbeddedConfig(**{k: v for k, v in wanted.items() if accepts_any or k in params})


@dataclass
class Backend:
    module: ModuleType
    config: Any
    app: Any
    seeded: bool


@asynccontextmanager
async def start_backend(data_dir: Path, *, seed: bool = True, **overrides: Any) -> AsyncIterator[Backend]:
    """The embedded backend app with its lifespan running (skips when the backend is absent)."""
    module = embedded_backend()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = make_config(module, data_dir, seed=seed, **overrides)
    app = module.create_app(config)
    router = getattr(app, "router", None)
    lifespan = router.lifespan_context(app) if router is not None and hasattr(router, "lifespan_context") else None
    if lifespan is not None:
        await lifespan.__aenter__()
    try:
        yield Backend(module, config, app, seeded=seed and demo_catalogue(module) is not None)
    finally:
        if lifespan is not None:
            await lifespan.__aexit__(None, None, None)


def make_token(*, client_id: str = CLIENT_ID, secret: str = SECRET, **claims: Any) -> str:
    """A ZGW JWT (HS256; iss, iat, client_id, user_id, user_representation); ``claims`` override or add."""
    payload: dict[str, Any] = {
        "iss": client_id,
        "iat": int(time.time()),
        "client_id": client_id,
        "user_id": "conformance",
        "user_representation": "Conformance tests",
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


# --- a scenario client ------------------------------------------------------------------------------------------

_DEFAULT = object()


class Zgw:
    """An authenticated client for the four APIs of one backend that records every exchange.

    ``await zgw.get("zaken", "/zaken/…")`` or ``await zgw.get(url)``. Requests to the Zaken API carry
    ``Accept-Crs``/``Content-Crs`` unless ``crs=False``. ``expect`` is the status (or statuses) the step needs; a
    different one fails with the response in the message, and a route the backend does not have (a 404/405 where
    the app has no matching route, or a 501) skips the step. JSON request bodies are first checked against the
    official spec, so the scenario itself never sends what the standard does not allow (``check_request=False`` for
    deliberate errors).
    """

    base_url = BASE_URL
    client_id = CLIENT_ID
    secret = SECRET
    crs = CRS

    def __init__(self, client: httpx.AsyncClient, recorder: oas.Recorder, app: Any = None) -> None:
        self.client = client
        self.recorder = recorder
        self.app = app
        self.token = make_token()

    def url(self, api: str, path: str = "") -> str:
        return f"{BASE_URL}/{api}/api/v1{path}"

    def step(self, label: str) -> None:
        self.recorder.step(label)

    async def call(
        self,
        method: str,
        target: str,
        path: str | None = None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: Any = _DEFAULT,
        crs: bool = True,
        expect: int | Iterable[int] | None = None,
        check_request: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        url = target if path is None else self.url(target, path)
        where = oas.split_api_url(url)
        send_headers: dict[str, str] = {}
        token = self.token if token is _DEFAULT else token
        if token is not None:
            send_headers["Authorization"] = f"Bearer {token}"
        if crs and where is not None and where[0] == "zaken":
            send_headers["Accept-Crs"] = CRS
            send_headers["Content-Crs"] = CRS
        send_headers.update(headers or {})
        if check_request and json is not None and where is not None:
            problems = oas.check_request(where[0], method, where[1], json)
            assert not problems, "the scenario sends a request the official spec does not allow:\n" + "\n".join(
                map(str, problems)
            )
        response = await self.client.request(method, url, json=json, params=params, headers=send_headers, **kwargs)
        if expect is not None:
            expected = {expect} if isinstance(expect, int) else set(expect)
            if response.status_code not in expected:
                _skip_if_route_missing(self.app, method, url, response, self.recorder)
                raise AssertionError(
                    f"{method} {url} → {response.status_code}, expected {sorted(expected)}:\n{response.text[:2000]}"
                )
        return response

    def require(self, method: str, api: str, path: str) -> None:
        """Skip the step when the backend has no route for ``method`` on ``/<api>/api/v1<path>`` (yet)."""
        if route_exists(self.app, method, httpx.URL(self.url(api, path)).path) is False:
            pytest.skip(f"the embedded backend does not implement {_route(method, self.url(api, path))} yet")

    async def get(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("GET", target, path, **kwargs)

    async def head(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("HEAD", target, path, **kwargs)

    async def post(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("POST", target, path, **kwargs)

    async def put(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("PUT", target, path, **kwargs)

    async def patch(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("PATCH", target, path, **kwargs)

    async def delete(self, target: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.call("DELETE", target, path, **kwargs)

    async def list_all(
        self, target: str, path: str | None = None, *, params: dict[str, Any] | None = None, max_pages: int = 20
    ) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following ``next`` (paginated) or taking the array (unpaginated)."""
        response = await self.get(target, path, params=params, expect=200)
        body = response.json()
        if isinstance(body, list):
            return body
        items = list(body["results"])
        pages = 1
        while body.get("next"):
            assert pages < max_pages, f"more than {max_pages} pages at {response.request.url}"
            response = await self.get(body["next"], expect=200)
            body = response.json()
            items += body["results"]
            pages += 1
        return items


def _skip_if_route_missing(app: Any, method: str, url: str, response: httpx.Response, recorder: oas.Recorder) -> None:
    """Skip the step when the backend has no route (yet) for the request that got a 404/405/501; the exchange is
    then left out of the conformance check (the skip reports it)."""
    if response.status_code not in (404, 405, 501):
        return
    path = httpx.URL(url).path
    if response.status_code != 501 and route_exists(app, method, path) is not False:
        return  # the route is there: the 404/405 is a real answer
    reason = f"the embedded backend does not implement {_route(method, url)} yet ({response.status_code})"
    for exchange in reversed(recorder.exchanges):
        if exchange.method == method.upper() and exchange.url == str(response.request.url):
            exchange.excluded = reason
            break
    pytest.skip(reason)


def _route(method: str, url: str) -> str:
    """``METHOD /<api>/api/v1<template>``, with the official spec's path template where one matches."""
    where = oas.split_api_url(url)
    if where is None:
        return f"{method} {url}"
    template = next((t for s in oas.specs_for(where[0]) if (t := s.match_path(where[1]))), where[1])
    return f"{method} /{where[0]}/api/v1{template}"


def route_exists(app: Any, method: str, path: str) -> bool | None:
    """Whether a Starlette/FastAPI app has a route for ``method`` and ``path`` (mounts followed); None when the
    app is of another kind and cannot tell."""
    from starlette.routing import Match, Mount

    routes = getattr(app, "routes", None)
    if routes is None:
        return None
    scope: dict[str, Any] = {"type": "http", "method": method.upper(), "path": path, "root_path": "", "path_params": {}}

    def search(routes: Any, scope: dict[str, Any]) -> bool:
        for route in routes:
            match, child = route.matches(scope)
            if isinstance(route, Mount) and match is not Match.NONE:
                sub = getattr(route, "routes", None) or getattr(getattr(route, "app", None), "routes", None)
                if sub is None or search(sub, {**scope, **child}):
                    return True
            elif match is Match.FULL:
                return True
        return False

    return search(routes, scope)


# --- fixtures -------------------------------------------------------------------------------------------------
# Test modules cannot import this conftest (its folder is no package), so what they need comes as fixtures.


@pytest.fixture(scope="session")
def token_factory() -> Any:
    """``make_token(client_id=…, secret=…, **claims)``: a ZGW JWT, by default one the backend accepts."""
    return make_token


@pytest.fixture(scope="session")
def embedded_app_factory() -> Any:
    """``make(data_dir, seed=True, **config) -> app``: a new embedded backend app (lifespan not started); skips
    when the backend does not exist yet."""
    module = embedded_backend()

    def make(data_dir: Path, *, seed: bool = True, **overrides: Any) -> Any:
        data_dir.mkdir(parents=True, exist_ok=True)
        return module.create_app(make_config(module, data_dir, seed=seed, **overrides))

    return make


@pytest.fixture(scope="session")
def official_specs() -> dict[str, list[oas.Spec]]:
    """All official specs (loaded once); skips when ../shared is absent."""
    return oas.require_specs()


@pytest.fixture(scope="module")
def recorder() -> oas.Recorder:
    return oas.Recorder()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend(tmp_path_factory: pytest.TempPathFactory, official_specs: Any) -> AsyncIterator[Backend]:
    # a small page size, so that every list of more than a few items is paginated
    async with start_backend(tmp_path_factory.mktemp("zgw-embedded"), page_size=SCENARIO_PAGE_SIZE) as started:
        yield started


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def zgw(backend: Backend, recorder: oas.Recorder) -> AsyncIterator[Zgw]:
    transport = recorder.transport(httpx.ASGITransport(app=backend.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30) as client:
        yield Zgw(client, recorder, backend.app)
