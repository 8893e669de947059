"""Checking the URLs a client writes: each must point at an existing resource of the right kind on this backend.

Codes: ``invalid`` (not a URL), ``bad-url`` (not a resource of this backend, or of another kind) and
``does_not_exist`` (the right kind of URL, but no such resource).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from .checks import Errors
from .db import Database
from .problems import NotFound, ValidationFailed, pydantic_params
from .refs import base_url, local_target, render
from .rest import db as request_db


class Resolver:
    """Validation context of one write request: the store, the base URL, the parent of a nested resource (the zaak
    of a zaakeigenschap) and the errors found so far."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.base = base_url(request)
        self.db: Database = request_db(request)
        self.errors = Errors()
        self.parent: dict[str, Any] | None = None

    def add(self, name: str, code: str, reason: str) -> None:
        self.errors.add(name, code, reason)

    def check(self) -> None:
        self.errors.raise_if_any()

    def local(self, name: str, url: str | None, *kinds: str, required: bool = True) -> dict[str, Any] | None:
        """The stored document a URL points at, or None (with an error recorded) when it does not resolve.

        A blank reference is ``null`` to Django REST framework; where one is required that is code ``null``.
        """
        if not url:
            if required:
                self.add(name, "null", "Dit veld mag niet leeg zijn.")
            return None
        target = local_target(url, self.base)
        if target is None or target.kind not in kinds:
            self.add(name, "bad-url", f"De URL {url} verwijst niet naar een {'/'.join(kinds)} van deze API.")
            return None
        doc = self.db.get(target.kind, target.uuid)
        if doc is None:
            self.add(name, "does_not_exist", f"Ongeldige hyperlink - Object bestaat niet ({url}).")
            return None
        return doc

    def published(self, name: str, doc: dict[str, Any] | None) -> None:
        if doc is not None and doc.get("concept"):
            self.add(name, "not-published", "Het gerelateerde object is niet gepubliceerd.")

    def absolute(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A stored document with absolute URLs, as a client would have read it."""
        absolute: dict[str, Any] = json.loads(render(doc, self.base))
        return absolute


def get_or_404(request: Request, table: str, uuid: str) -> dict[str, Any]:
    doc = request_db(request).get(table, uuid.lower())
    if doc is None:
        raise NotFound()
    return doc


def merge_patch(model: type[BaseModel], current: dict[str, Any], patch: BaseModel) -> BaseModel:
    """Validate a PATCH as Django REST framework does: the stored values overlaid with the given ones."""
    data = {**current, **patch.model_dump(exclude_unset=True)}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(pydantic_params(list(exc.errors()), strip_first=False)) from None


def partial_model(model: type[BaseModel]) -> type[BaseModel]:
    """The PATCH body of a resource: every field optional."""
    from typing import Optional

    from pydantic import create_model

    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        fields[name] = (Optional[info.rebuild_annotation()], None)  # noqa: UP045 - runtime construction
    return create_model(f"Patched{model.__name__}", __base__=model.__base__, **fields)
