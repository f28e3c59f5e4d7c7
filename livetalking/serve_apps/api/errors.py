"""Translate domain exceptions and request validation errors into JSON error responses with stable codes."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from livetalking.errors import (Conflict, Forbidden, IntegrityFailure, InvalidInput, LiveTalkingError, NotFound,
                                PayloadTooLarge, StoreError, TaskCancelled, Unauthenticated)

STATUS = (
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (TaskCancelled, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (IntegrityFailure, 500),
    (StoreError, 502),
)
CODE_STATUS = {"upload.malformed": 400, "store.invalid_key": 400}


def status_for(error: LiveTalkingError) -> int:
    """The HTTP status for a domain error."""
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    return next((status for cls, status in STATUS if isinstance(error, cls)), 500)


def error_body(code: str, message: str, request: Request, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {},
                      "request_id": request.scope.get("state", {}).get("request_id")}}


def install_error_handlers(app: FastAPI) -> None:
    """Register the translations on the app."""

    @app.exception_handler(LiveTalkingError)
    async def _domain(request: Request, error: LiveTalkingError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
        return JSONResponse(error_body(error.code, error.message, request, error.details),
                            status_code=status_for(error), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        invalid = InvalidInput.from_validation(error.errors())
        return JSONResponse(error_body(invalid.code, invalid.message, request, invalid.details), status_code=422)
