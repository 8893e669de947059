"""OpenAPI documents: the whole app at ``/openapi.json`` and one per API at ``/<api>/api/v1/schema/openapi.json``
(paths relative to the API root, ``servers`` pointing at it, as in Open Zaak).

FastAPI generates the operations and request bodies; :func:`_complete` then states what the handlers really answer:
the success body (object, paginated list, plain array, file), the problem documents (400 ``ValidatieFout``, 403,
404, 406/412 on the zaak endpoints, 415 on writes, 500 ``Fout``), and the headers (``API-version``, ``Location``,
``Content-Crs``, ``ETag``). FastAPI's own 422 does not occur and is dropped.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from .refs import base_url

APIS = ("zaken", "documenten", "catalogi", "besluiten")
SECURITY = {"JWT-Claims": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
CRS_PATHS = ("/zaken/api/v1/zaken", "/zaken/api/v1/zaken/{uuid}", "/zaken/api/v1/zaken/_zoek")
_MANUAL: dict[str, Any] = {}

_NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}
SCHEMAS: dict[str, Any] = {
    "Fout": {
        "type": "object", "required": ["code", "title", "status", "detail", "instance"],
        "properties": {"type": {"type": "string"}, "code": {"type": "string"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"}, "instance": {"type": "string"}},
    },
    "FieldValidationError": {
        "type": "object", "required": ["name", "code", "reason"],
        "properties": {"name": {"type": "string"}, "code": {"type": "string"}, "reason": {"type": "string"}},
    },
    "ValidatieFout": {
        "type": "object", "required": ["code", "title", "status", "detail", "instance", "invalidParams"],
        "properties": {"type": {"type": "string"}, "code": {"type": "string"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"}, "instance": {"type": "string"},
                       "invalidParams": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/FieldValidationError"}}},
    },
    "Resource": {
        "type": "object", "required": ["url"], "additionalProperties": True,
        "properties": {"url": {"type": "string", "format": "uri"}},
    },
    "Page": {
        "type": "object", "required": ["count", "next", "previous", "results"],
        "properties": {"count": {"type": "integer", "minimum": 0}, "next": _NULLABLE_URI, "previous": _NULLABLE_URI,
                       "results": {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}}},
    },
    "Lock": {"type": "object", "required": ["lock"], "properties": {"lock": {"type": "string"}}},
}


def body_doc(model: Any, content_type: str = "application/json", extra: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads its body itself (streamed); the model lands in components."""
    _MANUAL[model.__name__] = model
    return {"requestBody": {"required": True, "content": {
        content_type: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}, **(extra or {})}


def form_doc(fields: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": fields}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}}}}


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def _problem(description: str, schema: str = "Fout") -> dict[str, Any]:
    return {"description": description, "headers": {"API-version": _header("API-versie")},
            "content": {"application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _success(path: str, method: str, operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    params = {p.get("name") for p in operation.get("parameters", [])}
    headers = {"API-version": _header("API-versie")}
    if path in CRS_PATHS:
        headers["Content-Crs"] = _header("CRS van de geometrie", {"type": "string", "enum": ["EPSG:4326"]})
    if method == "delete" or path.endswith("/unlock"):
        return "204", {"description": "Geen inhoud", "headers": {"API-version": headers["API-version"]}}
    if path.endswith("/download"):
        return "200", {"description": "De inhoud", "headers": headers,
                       "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    if path.endswith("/lock"):
        return "200", {"description": "Het lock", "headers": headers,
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Lock"}}}}
    if "page" in params or path.endswith("/_zoek"):
        schema: dict[str, Any] = {"$ref": "#/components/schemas/Page"}
    elif method == "get" and not path.endswith("}"):
        schema = {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}}
    else:
        schema = {"$ref": "#/components/schemas/Resource"}
    if method == "get" and path.endswith("}"):
        headers["ETag"] = _header("Versie van de resource")
    if method == "post" and not path.endswith("/_zoek"):
        headers["Location"] = _header("URL van de nieuwe resource", {"type": "string", "format": "uri"})
        return "201", {"description": "Aangemaakt", "headers": headers,
                       "content": {"application/json": {"schema": schema}}}
    return "200", {"description": "OK", "headers": headers, "content": {"application/json": {"schema": schema}}}


def _complete(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(copy.deepcopy(SCHEMAS))
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if path.endswith("/_zoek") and not any(p.get("name") == "page" for p in operation.get("parameters", [])):
                operation.setdefault("parameters", []).append(
                    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}})
            status, success = _success(path, method, operation)
            responses: dict[str, Any] = {status: success}
            responses["400"] = _problem("Ongeldige invoer", "ValidatieFout")
            responses["403"] = _problem("Geen toegang")
            responses["404"] = _problem("Niet gevonden")
            if method in ("post", "put", "patch"):
                responses["415"] = _problem("Ongeldig mediatype")
            if path in CRS_PATHS:
                responses["406"] = _problem("CRS niet ondersteund")
                responses["412"] = _problem("Accept-Crs of Content-Crs ontbreekt")
            if method == "get" and path.endswith("}"):
                responses["304"] = {"description": "Ongewijzigd (If-None-Match)"}
            responses["500"] = _problem("Serverfout")
            operation["responses"] = responses
            if path in CRS_PATHS:
                parameters = operation.setdefault("parameters", [])
                for header in ("Accept-Crs", "Content-Crs"):
                    if not any(p.get("name") == header for p in parameters):
                        parameters.append({"name": header, "in": "header", "required": True,
                                           "schema": {"type": "string", "enum": ["EPSG:4326"]}})


def custom_openapi(app: FastAPI) -> Any:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _MANUAL.items():
            generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in generated.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            components[name] = generated
        _complete(schema)
        schema["components"]["securitySchemes"] = SECURITY
        schema["security"] = [{"JWT-Claims": []}]
        app.openapi_schema = schema
        return schema

    return openapi


def api_document(app: FastAPI, api: str, base: str) -> dict[str, Any]:
    full = copy.deepcopy(app.openapi())
    prefix = f"/{api}/api/v1"
    full["paths"] = {p[len(prefix):]: ops for p, ops in full["paths"].items() if p.startswith(prefix + "/")}
    full["servers"] = [{"url": f"{base}{api}/api/v1"}]
    full["info"] = {**full["info"], "title": f"{api.capitalize()} API (stuf-bridge embedded ZGW backend)"}
    return full


def install(app: FastAPI) -> None:
    app.openapi = custom_openapi(app)  # type: ignore[method-assign]
    for api in APIS:
        app.add_api_route(f"/{api}/api/v1/schema/openapi.json", _schema_endpoint(api), methods=["GET"],
                          include_in_schema=False)


def _schema_endpoint(api: str) -> Any:
    async def schema(request: Request) -> JSONResponse:
        return JSONResponse(api_document(request.app, api, base_url(request)))

    return schema
