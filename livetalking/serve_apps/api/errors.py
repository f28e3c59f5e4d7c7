"""Translate domain exceptions, request validation errors, a busy database and routing misses into JSON error
responses with stable codes (one body model, ErrorResponse, for all of them)."""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from livetalking.errors import (Conflict, DatabaseBusy, Forbidden, IntegrityFailure, InvalidInput, LiveTalkingError,
                                NotFound, PayloadTooLarge, StoreError, TaskCancelled, Unauthenticated)
from livetalking.platform.db import is_busy

STATUS = (
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (TaskCancelled, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (DatabaseBusy, 503),
    (IntegrityFailure, 500),
    (StoreError, 502),
)
CODE_STATUS = {"upload.malformed": 400, "store.invalid_key": 400}
RETRY_AFTER_S = 1


class ErrorInfo(BaseModel):
    """What went wrong: a stable code, a message naming the rule and the measured value, and the request id."""

    code: str = Field(description="stable, dotted: see docs/error-codes.md", examples=["take.video.frame_rate"])
    message: str
    details: dict[str, Any] = Field(description="rule, measured, expected, errors ... (depends on the code)")
    request_id: str | None = Field(description="also in the X-Request-ID header and the audit trail")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorInfo


def status_for(error: LiveTalkingError) -> int:
    """The HTTP status for a domain error."""
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    return next((status for cls, status in STATUS if isinstance(error, cls)), 500)


def error_body(code: str, message: str, request: Request, details: dict | None = None) -> dict:
    info = ErrorInfo(code=code, message=message, details=details or {},
                     request_id=request.scope.get("state", {}).get("request_id"))
    return ErrorResponse(error=info).model_dump(mode="json")


def headers_for(error: LiveTalkingError) -> dict[str, str] | None:
    """Headers an error answer carries: how to authenticate, or when to try again."""
    if isinstance(error, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, DatabaseBusy):
        return {"Retry-After": str(RETRY_AFTER_S)}
    return None


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path[len(root):] if root and path.startswith(root + "/") else path
    methods = {method for route in iter_route_contexts(request.app.routes)
               if route.methods and route.path_regex.match(path) for method in route.methods}
    return sorted(methods)


def domain_response(request: Request, error: LiveTalkingError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.message, request, error.details), status_code=status_for(error),
                        headers=headers_for(error))


def install_error_handlers(app: FastAPI) -> None:
    """Register the translations on the app."""

    @app.exception_handler(LiveTalkingError)
    async def _domain(request: Request, error: LiveTalkingError) -> JSONResponse:
        return domain_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return domain_response(request, InvalidInput.from_validation(error.errors()))

    @app.exception_handler(json.JSONDecodeError)
    async def _json(request: Request, error: json.JSONDecodeError) -> JSONResponse:
        return domain_response(request, InvalidInput(f"the body is not valid JSON: {error.msg}"))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database(request: Request, error: Exception) -> JSONResponse:
        if not is_busy(error):
            raise error
        busy = DatabaseBusy("the database is busy with other writes; try again in a moment",
                            details={"retry_after_s": RETRY_AFTER_S})
        return domain_response(request, busy)

    @app.exception_handler(HTTPException)
    async def _routing(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 405:
            allowed = allowed_methods(request)
            return JSONResponse(error_body("method_not_allowed", f"{request.method} is not allowed here; use "
                                           f"{', '.join(allowed)}", request, {"allowed": allowed}),
                                status_code=405, headers={"Allow": ", ".join(allowed)})
        if error.status_code == 404:
            return JSONResponse(error_body("not_found", f"no such path: {request.url.path} (ids are UUIDs)", request),
                                status_code=404)
        return JSONResponse(error_body("http_error", str(error.detail), request), status_code=error.status_code,
                            headers=error.headers)
