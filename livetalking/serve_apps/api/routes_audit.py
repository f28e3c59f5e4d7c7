"""The audit trail of the caller's tenant."""

from typing import Annotated

from fastapi import APIRouter, Query

from livetalking.platform.audit import list_events
from livetalking.platform.tables import NO_NUL, AuditEvent, AuditEventPublic
from livetalking.serve_apps.api.deps import Admin, SessionDep
from livetalking.serve_apps.api.pagination import Limit, Offset

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditEventPublic])
def list_all(principal: Admin, session: SessionDep,
             action: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None, limit: Limit = 100,
             offset: Offset = 0) -> list[AuditEvent]:
    return list_events(session, principal.tenant_id, action, limit, offset)
