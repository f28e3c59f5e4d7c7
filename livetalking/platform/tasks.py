"""Task center state: persistent tasks with priorities, claim, progress, cancel, retry and recovery after a crash."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from livetalking.errors import Conflict, InvalidInput, TaskCancelled
from livetalking.platform.db import session_scope
from livetalking.platform.store import ArtifactStore
from livetalking.platform.tables import TERMINAL_TASK_STATES, Task, TaskState
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow
from livetalking.settings import Settings

MIN_PRIORITY, MAX_PRIORITY = -100, 100


def create_task(session: Session, tenant_id: uuid.UUID, task_type: str, payload: dict, *, known_types: Iterable[str],
                priority: int = 0, created_by: uuid.UUID | None = None, max_attempts: int = 3) -> Task:
    """Queue a task of a known type."""
    known = sorted(known_types)
    if task_type not in known:
        raise InvalidInput(f"unknown task type {task_type!r}; known: {', '.join(known)}", code="task.unknown_type")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidInput(f"priority must lie in {MIN_PRIORITY}..{MAX_PRIORITY}, got {priority}", code="task.priority")
    task = Task(tenant_id=tenant_id, type=task_type, payload=payload, priority=priority,
                created_by=created_by, max_attempts=max_attempts)
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, tenant_id: uuid.UUID, task_id: uuid.UUID) -> Task:
    """A task of this tenant, or NotFound."""
    return get_owned(session, Task, tenant_id, task_id, "task")


def list_tasks(session: Session, tenant_id: uuid.UUID, state: TaskState | None, task_type: str | None,
               limit: int, offset: int) -> list[Task]:
    """The tenant's tasks, newest first."""
    query = select(Task).where(Task.tenant_id == tenant_id)
    if state is not None:
        query = query.where(Task.state == state)
    if task_type:
        query = query.where(Task.type == task_type)
    return list(session.exec(query.order_by(col(Task.created_at).desc()).offset(offset).limit(limit)))


def request_cancel(session: Session, tenant_id: uuid.UUID, task_id: uuid.UUID) -> Task:
    """Cancel a queued task at once; ask a running one to stop (the runner cancels it)."""
    task = get_task(session, tenant_id, task_id)
    if task.state in TERMINAL_TASK_STATES:
        raise Conflict(f"the task already ended ({task.state.value})", code="task.finished")
    if task.state in (TaskState.queued, TaskState.interrupted):
        task.state = TaskState.cancelled
        task.finished_at = utcnow()
        task.message = "cancelled before it ran"
    task.cancel_requested = True
    session.add(task)
    return task


def retry_task(session: Session, tenant_id: uuid.UUID, task_id: uuid.UUID) -> Task:
    """Queue a failed, cancelled or interrupted task again; it resumes from its checkpoint."""
    task = get_task(session, tenant_id, task_id)
    if task.state not in (TaskState.failed, TaskState.cancelled, TaskState.interrupted):
        raise Conflict(f"only failed, cancelled or interrupted tasks can be retried (this one is {task.state.value})",
                       code="task.not_retryable")
    task.state = TaskState.queued
    task.cancel_requested = False
    task.error = None
    task.error_code = None
    task.finished_at = None
    task.max_attempts = max(task.max_attempts, task.attempts + 1)
    task.message = "queued again" + (" (resumes from its checkpoint)" if task.checkpoint else "")
    session.add(task)
    return task


def claim_next(engine: Engine, runner_id: str) -> Task | None:
    """Atomically take the most urgent queued task (highest priority, then oldest) for this runner."""
    with session_scope(engine) as session:
        candidates = session.exec(
            select(Task.id).where(Task.state == TaskState.queued)
            .order_by(col(Task.priority).desc(), col(Task.created_at).asc()).limit(5)).all()
    for task_id in candidates:
        now = utcnow()
        with session_scope(engine) as session:
            claimed = session.exec(
                update(Task).where(col(Task.id) == task_id, col(Task.state) == TaskState.queued)
                .values(state=TaskState.running, runner_id=runner_id, attempts=Task.attempts + 1,
                        started_at=now, heartbeat_at=now, message="running")
            ).rowcount
        if claimed == 1:
            with session_scope(engine) as session:
                return session.get(Task, task_id)
    return None


def heartbeat(engine: Engine, task_id: uuid.UUID, progress: float | None = None,
              message: str | None = None) -> bool:
    """Record liveness (and progress); returns whether a cancel was requested."""
    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        if task is None:
            return True
        task.heartbeat_at = utcnow()
        if progress is not None:
            task.progress = min(max(float(progress), 0.0), 1.0)
        if message is not None:
            task.message = message[:1000]
        session.add(task)
        return task.cancel_requested


def save_checkpoint(engine: Engine, task_id: uuid.UUID, checkpoint: dict) -> None:
    """Persist what a task has finished so that a retry resumes after it."""
    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        task.checkpoint = checkpoint
        session.add(task)


def finish(engine: Engine, task_id: uuid.UUID, state: TaskState, *, result: dict | None = None,
           error: str | None = None, error_code: str | None = None) -> None:
    """Record how a task ended."""
    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        task.state = state
        task.finished_at = utcnow()
        if state is TaskState.succeeded:
            task.progress = 1.0
            task.message = "done"
            task.result = result or {}
        else:
            task.message = state.value
            task.error = error[:4000] if error else None
            task.error_code = error_code
        session.add(task)


def recover_stale(engine: Engine, timeout_s: float, requeue: bool = True) -> list[uuid.UUID]:
    """Mark running tasks whose runner stopped beating as interrupted; requeue those with attempts left."""
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    recovered = []
    with session_scope(engine) as session:
        stale = session.exec(select(Task).where(Task.state == TaskState.running, col(Task.heartbeat_at) < cutoff))
        for task in stale:
            recovered.append(task.id)
            resumable = requeue and task.attempts < task.max_attempts and not task.cancel_requested
            task.state = TaskState.queued if resumable else TaskState.interrupted
            task.message = (f"interrupted (runner {task.runner_id} stopped at {task.heartbeat_at:%H:%M:%S} UTC)"
                            + ("; queued to resume" if resumable else ""))
            if task.cancel_requested:
                task.state = TaskState.cancelled
                task.finished_at = utcnow()
            session.add(task)
    return recovered


@dataclass
class TaskContext:
    """What a handler sees: its payload, its checkpoint, and a way to report progress (which raises on cancel);
    `on_ray` says the task runs inside a Ray cluster (so training can be a Ray Train job), not in a local thread."""

    task_id: uuid.UUID
    tenant_id: uuid.UUID
    payload: dict
    checkpoint: dict
    engine: Engine
    store: ArtifactStore
    settings: Settings
    on_ray: bool = False

    def report(self, progress: float, message: str) -> None:
        """Record progress; raises TaskCancelled when a cancel was requested."""
        if heartbeat(self.engine, self.task_id, progress, message):
            raise TaskCancelled("the task was cancelled")

    def save(self, checkpoint: dict) -> None:
        """Persist a checkpoint; a retry after a crash starts from it."""
        self.checkpoint = checkpoint
        save_checkpoint(self.engine, self.task_id, checkpoint)


def task_summary(task: Task | None) -> dict | None:
    """What a persona's detail view shows of the task working on it."""
    if task is None:
        return None
    return {"id": str(task.id), "state": task.state.value, "progress": task.progress, "message": task.message,
            "error": task.error, "error_code": task.error_code}
