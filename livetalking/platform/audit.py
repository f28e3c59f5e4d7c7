"""Audit trail: one event per mutating request, whatever its outcome, and one per change a task makes on its own."""

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import AuditEvent


def outcome_of(status_code: int) -> str:
    """A word for the result: ok, denied (401/403), rejected (other 4xx) or error (5xx)."""
    if status_code < 400:
        return "ok"
    if status_code in (401, 403):
        return "denied"
    return "rejected" if status_code < 500 else "error"


def record_event(engine: Engine, event: AuditEvent) -> None:
    """Append one audit event in its own transaction."""
    with session_scope(engine) as session:
        session.add(event)


def record_task_event(engine: Engine, tenant_id: uuid.UUID, task_id: uuid.UUID, actor: uuid.UUID | None,
                      action: str, target: str) -> None:
    """Record a change a task made on its own (an automatic rollback) in the name of the key that queued it;
    method TASK, path the task's URL, request id the task's id."""
    record_event(engine, AuditEvent(request_id=task_id.hex, tenant_id=tenant_id, actor=str(actor) if actor else "task",
                                    action=action, method="TASK", path=f"/api/v1/tasks/{task_id}", target=target[:200],
                                    status_code=200, outcome="ok"))


def list_events(session: Session, tenant_id: uuid.UUID, action: str | None, limit: int,
                offset: int) -> list[AuditEvent]:
    """The tenant's audit events, newest first."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)))
