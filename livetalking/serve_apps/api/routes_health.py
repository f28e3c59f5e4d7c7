"""Liveness and readiness (no API key needed)."""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from livetalking import __version__
from livetalking.errors import LiveTalkingError
from livetalking.platform.store import scoped_key
from livetalking.serve_apps.api.deps import ContextDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
def healthz() -> dict:
    """The process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "the database or the store does not answer"}})
def readyz(context: ContextDep) -> JSONResponse:
    """The database and the artifact store answer."""
    checks = {}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as e:
        checks["database"] = f"error: {type(e).__name__}"
    try:
        context.store.exists(scoped_key("readiness", "probe"))
        checks["store"] = "ok"
    except LiveTalkingError as e:
        checks["store"] = f"error: {e.code}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)
