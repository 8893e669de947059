"""Property-based checks of the embedded ZGW backend against its *own* published OpenAPI document (schemathesis).

The backend runs in-process (schemathesis' ASGI transport, lifespan included), seeded with the demo catalogue, and
every generated request carries a valid JWT and the Zaken API's CRS headers. For each operation of the published
document schemathesis generates a bounded number of requests (valid and invalid ones, deterministically) and checks:

* ``not_a_server_error``: no 5xx;
* ``status_code_conformance``: the status is one the document declares for the operation;
* ``content_type_conformance``: the Content-Type is one the document declares for that status;
* ``response_schema_conformance``: the body validates against the declared schema;
* ``response_headers_conformance``: declared response headers are present and valid.

The checks that judge the *request* side (is invalid input rejected, is valid input accepted) are left out: the
backend follows Open Zaak/Django REST framework, which ignore unknown and read-only fields, and the official specs
do not promise more. That the *official* schemas are met is ``test_conformance``'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")

from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

MAX_EXAMPLES = 4  # per operation; keeps the module well under a minute
CRS = "EPSG:4326"
CHECKS = [  # the public names; ``schemathesis.checks`` resolves them from its registry
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]
APIS = ("zaken", "documenten", "catalogi", "besluiten")
# Where the backend publishes each API's document (as Open Zaak does, paths relative to the API root, `servers`
# pointing at it); the whole app's FastAPI document is the fallback.
API_DOCUMENT = "/{api}/api/v1/schema/openapi.json"
APP_DOCUMENT = "/openapi.json"


def published_document(app: Any, api: str) -> str:
    """The path of the OpenAPI document the app publishes for ``api``: its own, else the app's."""
    from starlette.routing import Match

    path = API_DOCUMENT.format(api=api)
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "path_params": {}}
    if any(route.matches(scope)[0] is Match.FULL for route in getattr(app, "routes", [])):
        return path
    if getattr(app, "openapi_url", None):
        return str(app.openapi_url)
    pytest.fail(f"the embedded backend publishes no OpenAPI document at {path} or {APP_DOCUMENT}")


class ModuleLifespan:
    """The backend app with its lifespan answered here, so that it stays up for the whole module.

    schemathesis' pytest plugin ends every ASGI app's lifespan after each test and starts it again on the next
    request; the backend does not survive that (its store, opened in ``create_app``, is closed by the first
    shutdown), which would turn every later request into a 500 that says nothing about its API. The real lifespan
    runs once, when the module is done (``close``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        import asyncio

        async def cycle() -> None:
            async with self.app.router.lifespan_context(self.app):
                pass

        asyncio.run(cycle())


@pytest.fixture(scope="module")
def embedded_app(embedded_app_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleLifespan]:
    wrapped = ModuleLifespan(embedded_app_factory(Path(tmp_path_factory.mktemp("zgw-schemathesis")), seed=True))
    yield wrapped
    wrapped.close()


@pytest.fixture(scope="module", params=APIS)
def published_schema(request: pytest.FixtureRequest, embedded_app: Any) -> Any:
    document = published_document(embedded_app.app, request.param)
    schema = schemathesis.openapi.from_asgi(document, embedded_app)
    if document == APP_DOCUMENT:  # one document for all APIs: take this API's part
        schema = schema.include(path_regex=f"^/{request.param}/api/v1/")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


@pytest.fixture(scope="module")
def auth_headers(token_factory: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_factory()}", "Accept-Crs": CRS, "Content-Crs": CRS}


published = schemathesis.pytest.from_fixture("published_schema")


@published.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible, never flaky
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_backend_honours_its_published_openapi(case: Any, auth_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
