"""The task center API."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from livetalking.platform.tables import NO_NUL, JSONInt, Task, TaskPublic, TaskState
from livetalking.platform.task_types import TASK_TYPES
from livetalking.platform.tasks import (MAX_PRIORITY, MIN_PRIORITY, create_task, get_task, list_tasks, request_cancel,
                                        retry_task)
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors
from livetalking.serve_apps.api.pagination import Limit, Offset

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], route_class=StrictJSONRoute)


class TaskCreate(BaseModel):
    """The schema lists the rules the task center applies (task.unknown_type, task.priority)."""

    type: str = Field(json_schema_extra={"enum": sorted(TASK_TYPES)})
    payload: dict = {}
    priority: JSONInt = Field(default=0,
                          json_schema_extra={"minimum": MIN_PRIORITY, "maximum": MAX_PRIORITY})


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
def create(body: TaskCreate, principal: Operator, session: SessionDep, context: ContextDep) -> Task:
    task = create_task(session, principal.tenant_id, body.type, body.payload, known_types=context.task_types,
                       priority=body.priority, created_by=principal.key_id,
                       max_attempts=context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return task


@router.get("", response_model=list[TaskPublic])
def list_all(principal: Viewer, session: SessionDep, state: TaskState | None = None,
             type: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None, limit: Limit = 50,
             offset: Offset = 0) -> list[Task]:
    return list_tasks(session, principal.tenant_id, state, type, limit, offset)


@router.get("/{task_id:uuid}", response_model=TaskPublic)
def show(task_id: uuid.UUID, principal: Viewer, session: SessionDep) -> Task:
    return get_task(session, principal.tenant_id, task_id)


@router.post("/{task_id:uuid}:cancel", response_model=TaskPublic, responses=errors(409))
def cancel(task_id: uuid.UUID, principal: Operator, session: SessionDep) -> Task:
    task = request_cancel(session, principal.tenant_id, task_id)
    session.commit()
    return task


@router.post("/{task_id:uuid}:retry", response_model=TaskPublic, responses=errors(409))
def retry(task_id: uuid.UUID, principal: Operator, session: SessionDep, context: ContextDep) -> Task:
    task = retry_task(session, principal.tenant_id, task_id)
    session.commit()
    context.on_task_queued()
    return task
