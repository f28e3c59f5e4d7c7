"""The avatars:train task run by a Ray job (`ray job submit`, see scripts/train_avatar.sh) instead of the platform.

The job's entrypoint records the task in the metadata database as already running under its own
runner id (in the same transaction that creates it), so the platform's task runner, which claims only
queued tasks, never races it for the task; the task center shows its progress as for any task. The
handler then runs in the job's driver with `on_ray`: the generator trains as a Ray Train job over the
cluster's nodes (LT_AVATAR_TRAIN_WORKERS workers, run storage LT_TRAIN_STORAGE, which every node must
see). If the job dies, its heartbeat stops, and the platform's runner requeues the task and resumes
it from the run's last checkpoint like any interrupted task.
"""

import uuid

from livetalking.platform.avatar_prep import TrainRequest, queue_training
from livetalking.platform.db import make_engine, session_scope
from livetalking.platform.personas import get_persona
from livetalking.platform.tables import Avatar, Task, TaskState
from livetalking.platform.task_types import TASK_TYPES
from livetalking.platform.timeutil import utcnow
from livetalking.settings import Settings


def start_training(settings: Settings, tenant_id: uuid.UUID, avatar_id: uuid.UUID, request: TrainRequest,
                   runner_id: str) -> uuid.UUID:
    """Create the avatar's avatars:train task already running under `runner_id`; its id."""
    engine = make_engine(settings.effective_database_url)
    try:
        with session_scope(engine) as session:
            avatar = get_persona(session, Avatar, tenant_id, avatar_id)
            task = queue_training(session, avatar, request, None, TASK_TYPES, settings.task_max_attempts)
            now = utcnow()
            task.state, task.runner_id, task.attempts, task.message = TaskState.running, runner_id, 1, "running"
            task.started_at = task.heartbeat_at = now
            session.add(task)
            return task.id
    finally:
        engine.dispose()


def run_training_job(settings: Settings, tenant_id: uuid.UUID, avatar_id: uuid.UUID, request: TrainRequest,
                     runner_id: str) -> Task:
    """Train the avatar on the connected Ray cluster as a task of the platform; the finished task row."""
    from livetalking.train_jobs.execute import execute_task

    task_id = start_training(settings, tenant_id, avatar_id, request, runner_id)
    execute_task(task_id, settings, on_ray=True)
    engine = make_engine(settings.effective_database_url)
    try:
        with session_scope(engine) as session:
            task = session.get(Task, task_id)
            session.expunge(task)
            return task
    finally:
        engine.dispose()
