"""One route factory for the resources of the four APIs (Open Zaak's generic CRUD viewsets, without their class stack).

A resource is declared as data: its path and table, its body model, how a list is filtered and a document shown,
and hooks for the rules that are its own. :func:`add_routes` gives it list, create, read, update (PUT and PATCH) and
delete, each the same everywhere:

- a write runs in one transaction: ``build`` checks the body against the store (every problem found at once, as
  Django REST framework reports them, 400) and returns the document to store; ``after_write`` keeps related
  documents in step (mirrors, links); a PATCH is the stored document overlaid with the given fields, checked whole;
- ``before_delete`` refuses a delete (400) or removes what hangs on the document, in the same transaction;
- a list refuses unknown query parameters; a paginated list pages, a plain one (an array) refuses ``page`` too;
- a nested resource (``zaken/{zaak_uuid}/zaakeigenschappen``) is found only below its own parent.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from .db import Database, Where
from .problems import NotFound
from .resolve import Resolver, merge_patch, partial_model
from .rest import Query, created, db, no_content, paginate, query_doc, respond

Doc = dict[str, Any]
Render = Callable[[Database, list[Doc]], list[Doc]]
OPERATIONS = ("list", "create", "get", "put", "patch", "delete")


def fields(*names: str) -> Render:
    """Show these fields of each document; what else is stored (``_``-keys, uuids) stays inside."""

    def render(_database: Database, docs: list[Doc]) -> list[Doc]:
        return [{name: doc.get(name) for name in names} for doc in docs]

    return render


def as_stored(_database: Database, docs: list[Doc]) -> list[Doc]:
    return docs


@dataclass(frozen=True)
class Resource:
    """A resource of one API.

    - ``path``: below the API root, e.g. ``besluiten``; nested below a parent: ``zaken/{zaak_uuid}/zaakeigenschappen``
      with ``parent="zaak"`` (the parent's table, and the child's field holding the parent's URL).
    - ``build(r, body, existing)``: check and return the document to store (``existing`` on update; the parent, if
      any, is ``r.parent``). Required for create, put and patch.
    - ``where(q)``: the list's filters from its query parameters ``params``; ``order``: SQL order of the list.
    - ``detail_params``: query parameters a read accepts (others refused); ``None``: not checked.
    - ``headers``: added to every answer with a body (``Content-Crs`` on zaken).
    """

    path: str
    table: str
    render: Render = as_stored
    body: type[BaseModel] | None = None
    build: Callable[[Resolver, Any, Doc | None], Doc] | None = None
    where: Callable[[Query], Where] | None = None
    params: tuple[str, ...] = ()
    paginated: bool = True
    order: str = "seq"
    detail_params: tuple[str, ...] | None = None
    after_write: Callable[[Database, Doc, Doc | None], None] | None = None
    before_delete: Callable[[Database, Doc], None] | None = None
    operations: Sequence[str] = OPERATIONS
    parent: str | None = None
    headers: Mapping[str, str] | None = None
    dependencies: Sequence[Any] = ()


def add_routes(router: APIRouter, resource: Resource) -> None:
    """The routes of ``resource`` on ``router`` (whose prefix is the API root, e.g. ``/zaken/api/v1``)."""
    routes = _Routes(resource, router.prefix.strip("/") + "/")
    collection, item = f"/{resource.path}", f"/{resource.path}/{{uuid}}"
    outer = re.findall(r"{(\w+)}", resource.path)
    extra: dict[str, Any] = {"dependencies": list(resource.dependencies)}
    wanted = set(resource.operations)
    if "list" in wanted:
        router.add_api_route(collection, _endpoint(routes.listing, outer), methods=["GET"],
                             openapi_extra=query_doc(*resource.params, paginated=resource.paginated), **extra)
    if "create" in wanted:
        router.add_api_route(collection, _endpoint(routes.create, outer, resource.body), methods=["POST"],
                             status_code=201, **extra)
    if "get" in wanted:
        detail_doc = query_doc(*resource.detail_params, paginated=False) if resource.detail_params else None
        router.add_api_route(item, _endpoint(routes.read, [*outer, "uuid"]), methods=["GET"], openapi_extra=detail_doc,
                             **extra)
    if "put" in wanted:
        router.add_api_route(item, _endpoint(routes.update, [*outer, "uuid"], resource.body), methods=["PUT"], **extra)
    if "patch" in wanted:
        assert resource.body is not None
        router.add_api_route(item, _endpoint(routes.update, [*outer, "uuid"], partial_model(resource.body)),
                             methods=["PATCH"], **extra)
    if "delete" in wanted:
        router.add_api_route(item, _endpoint(routes.delete, [*outer, "uuid"]), methods=["DELETE"], status_code=204,
                             **extra)


def _endpoint(handler: Callable[..., Any], path_params: Sequence[str], body: type[BaseModel] | None = None
              ) -> Callable[..., Any]:
    """``handler`` with the signature FastAPI reads: the request, the path parameters, the body model (if any)."""

    async def endpoint(**values: Any) -> Response:
        response: Response = await handler(**values)
        return response

    params = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str) for name in path_params]
    if body is not None:
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body))
    endpoint.__signature__ = inspect.Signature(params, return_annotation=Response)  # type: ignore[attr-defined]
    endpoint.__name__ = handler.__name__
    return endpoint


@dataclass(frozen=True)
class _Routes:
    """The handlers of one resource."""

    resource: Resource
    api: str

    def _render(self, database: Database, doc: Doc) -> Doc:
        return self.resource.render(database, [doc])[0]

    def _parent(self, request: Request, path: Mapping[str, str]) -> Doc | None:
        parent = self.resource.parent
        if parent is None:
            return None
        doc = db(request).get(parent, path[f"{parent}_uuid"].lower())
        if doc is None:
            raise NotFound()
        return doc

    def _find(self, request: Request, path: Mapping[str, str], parent: Doc | None) -> Doc:
        doc = db(request).get(self.resource.table, path["uuid"].lower())
        if doc is None or (parent is not None and doc[self.resource.parent] != parent["url"]):  # type: ignore[index]
            raise NotFound()
        return doc

    async def listing(self, request: Request, **path: str) -> Response:
        resource = self.resource
        parent = self._parent(request, path)
        q = Query(request, resource.params, paginated=resource.paginated)
        where = resource.where(q) if resource.where is not None else Where(resource.table)
        if parent is not None:
            where.eq(resource.parent, parent["url"])  # type: ignore[arg-type]
        database = db(request)
        if resource.paginated:
            return paginate(request, where, self.api + resource.path.format(**path),
                            lambda rows: resource.render(database, rows), order=resource.order)
        rows = database.select(where, order=resource.order)
        return respond(request, resource.render(database, rows), headers=resource.headers)

    async def read(self, request: Request, **path: str) -> Response:
        if self.resource.detail_params is not None:
            Query(request, self.resource.detail_params)
        doc = self._find(request, path, self._parent(request, path))
        return respond(request, self._render(db(request), doc), headers=self.resource.headers)

    async def create(self, request: Request, body: BaseModel, **path: str) -> Response:
        resource = self.resource
        r = Resolver(request)
        assert resource.build is not None
        with r.db.tx():
            r.parent = self._parent(request, path)
            doc = resource.build(r, body, None)
            r.db.insert(resource.table, doc)
            if resource.after_write is not None:
                resource.after_write(r.db, doc, None)
        return created(request, self._render(r.db, doc), resource.headers)

    async def update(self, request: Request, body: BaseModel, **path: str) -> Response:
        resource = self.resource
        r = Resolver(request)
        assert resource.build is not None and resource.body is not None
        with r.db.tx():
            r.parent = self._parent(request, path)
            existing = self._find(request, path, r.parent)
            merged = merge_patch(resource.body, r.absolute(existing), body)
            doc = resource.build(r, merged, existing)
            r.db.update(resource.table, doc)
            if resource.after_write is not None:
                resource.after_write(r.db, doc, existing)
        return respond(request, self._render(r.db, doc), headers=resource.headers)

    async def delete(self, request: Request, **path: str) -> Response:
        database = db(request)
        with database.tx():
            doc = self._find(request, path, self._parent(request, path))
            if self.resource.before_delete is not None:
                self.resource.before_delete(database, doc)
            database.delete(self.resource.table, doc["uuid"])
        return no_content()
