"""The OpenAPI document tells the truth: every operation lists the error answers it can give, with the one error
body (ErrorResponse), and its bearer-key security.

Answers that follow from how a route is built are added to the generated document here: 401 where a key is
read, 403 where the role needed is above viewer, 404 where the path names a resource, 422 where the request has
parameters or a body, 503 (db.busy, with Retry-After) where the database is used. Answers a service gives on its
own (409 for a state conflict, 413 for a large upload, ...) are declared on the route with `errors(...)`.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from livetalking.platform.tables import Role
from livetalking.serve_apps.api.deps import get_context, get_principal
from livetalking.serve_apps.api.errors import RETRY_AFTER_S, ErrorResponse
from livetalking.settings import Settings

ERROR_REF = "#/components/schemas/ErrorResponse"
SECURITY_SCHEME = "bearerKey"
DESCRIPTIONS = {
    400: "Malformed request: not multipart/form-data, a part without a name (upload.malformed), or an unsafe "
         "artifact key (store.invalid_key)",
    401: "No, malformed, unknown or revoked API key (auth.unauthenticated, auth.revoked)",
    403: "The key's role is below the route's (auth.forbidden)",
    404: "Nothing with that id in the caller's tenant (<noun>.not_found), or no such path",
    409: "The resource's state forbids the operation (the code names the state)",
    413: "The upload is larger than LT_MAX_UPLOAD_BYTES (upload.too_large)",
    422: "A field breaks a rule (invalid_input lists them in details.errors; other codes name the rule)",
    500: "A stored artifact no longer matches its sha256 (store.integrity), or a pretrained file is missing "
         "(base_model.missing)",
    502: "The artifact store failed (store.error)",
    503: f"The database stayed locked longer than LT_DB_BUSY_TIMEOUT_S (db.busy); retry after {RETRY_AFTER_S} s",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds to wait before retrying", "required": True,
                          "schema": {"type": "integer", "minimum": 0}}},
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route decorator: these error answers, with the error body."""
    return {status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]} for status in statuses}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions inlined, for hand-written request bodies (openapi_extra)."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def implied_statuses(route: RouteContext) -> set[int]:
    """The error answers that follow from the route's parameters and dependencies."""
    nodes = list(_dependants(route.dependant))
    calls: set[Callable | None] = {node.call for node in nodes}
    statuses = set()
    if get_principal in calls:
        statuses.add(401)
    if any(getattr(call, "min_role", Role.viewer) is not Role.viewer for call in calls):
        statuses.add(403)
    if any(node.path_params for node in nodes):
        statuses.add(404)
    has_body = "requestBody" in (route.openapi_extra or {})
    if has_body or any(node.path_params or node.query_params or node.header_params or node.body_params
                       for node in nodes):
        statuses.add(422)
    if get_context in calls:
        statuses.add(503)
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    response = {"description": DESCRIPTIONS[status],
                "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def _body_ref(response: dict) -> str:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")


def document_errors(schema: dict[str, Any], routes) -> dict[str, Any]:
    """Add each operation's implied error answers and security to a generated document (in place)."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas.setdefault("ErrorResponse", error_schema)
    components["securitySchemes"] = {SECURITY_SCHEME: {"type": "http", "scheme": "bearer",
                                                       "description": "an API key: lt_<prefix>_<secret>"}}
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        statuses = implied_statuses(route)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            for status in sorted(statuses):
                declared = responses.get(str(status))
                if declared is None or _body_ref(declared).endswith("/HTTPValidationError"):
                    responses[str(status)] = _error_response(status)
                elif status in HEADERS and _body_ref(declared) == ERROR_REF:
                    declared.setdefault("headers", HEADERS[status])
            if 401 in statuses:
                operation["security"] = [{SECURITY_SCHEME: []}]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema


def document_limits(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Limits that are settings, not constants, written into the request schemas they apply to (in place)."""
    schema["components"]["schemas"]["UploadCreate"]["properties"]["size_bytes"]["maximum"] = settings.max_upload_bytes
    return schema


def install_contract(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document at /openapi.json (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            document_limits(document_errors(generate(), app.routes), settings)
        return app.openapi_schema

    app.openapi = openapi
