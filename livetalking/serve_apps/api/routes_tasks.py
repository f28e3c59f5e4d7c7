"""The task center API."""

import uuid

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from livetalking.platform.tables import Task, TaskPublic, TaskState
from livetalking.platform.tasks import create_task, get_task, list_tasks, request_cancel, retry_task
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.pagination import Limit, Offset

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class TaskCreate(BaseModel):
    type: str = Field(min_length=1, max_length=100)
    payload: dict = {}
    priority: int = 0


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
def create(body: TaskCreate, principal: Operator, session: SessionDep, context: ContextDep) -> Task:
    task = create_task(session, principal.tenant_id, body.type, body.payload, known_types=context.task_types,
                       priority=body.priority, created_by=principal.key_id,
                       max_attempts=context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return task


@router.get("", response_model=list[TaskPublic])
def list_all(principal: Viewer, session: SessionDep, state: TaskState | None = None, type: str | None = None,
             limit: Limit = 50, offset: Offset = 0) -> list[Task]:
    return list_tasks(session, principal.tenant_id, state, type, limit, offset)


@router.get("/{task_id}", response_model=TaskPublic)
def show(task_id: uuid.UUID, principal: Viewer, session: SessionDep) -> Task:
    return get_task(session, principal.tenant_id, task_id)


@router.post("/{task_id}:cancel", response_model=TaskPublic)
def cancel(task_id: uuid.UUID, principal: Operator, session: SessionDep) -> Task:
    return request_cancel(session, principal.tenant_id, task_id)


@router.post("/{task_id}:retry", response_model=TaskPublic)
def retry(task_id: uuid.UUID, principal: Operator, session: SessionDep, context: ContextDep) -> Task:
    task = retry_task(session, principal.tenant_id, task_id)
    session.commit()
    context.on_task_queued()
    return task
