"""Run one claimed task to its end, wherever it is scheduled (a Ray task or a local thread)."""

import threading
import uuid
from collections.abc import Mapping

from livetalking.errors import LiveTalkingError, TaskCancelled
from livetalking.platform.db import make_engine, session_scope
from livetalking.platform.store import make_store
from livetalking.platform.tables import Task, TaskState
from livetalking.platform.tasks import TaskContext, finish, heartbeat
from livetalking.settings import Settings
from livetalking.train_jobs.handlers import DEFAULT_HANDLERS, Handler


def _beat(engine, task_id: uuid.UUID, interval_s: float, stop: threading.Event) -> None:
    while not stop.wait(interval_s):
        heartbeat(engine, task_id)


def execute_task(task_id: uuid.UUID, settings: Settings, handlers: Mapping[str, Handler] | None = None,
                 on_ray: bool = False) -> str:
    """Run the handler of a claimed task, keep its heartbeat, and record success, failure or cancellation;
    `on_ray` when it runs as a Ray task."""
    handlers = DEFAULT_HANDLERS if handlers is None else handlers
    engine = make_engine(settings.effective_database_url)
    try:
        with session_scope(engine) as session:
            task = session.get(Task, task_id)
        ctx = TaskContext(task_id=task.id, tenant_id=task.tenant_id, payload=dict(task.payload),
                          checkpoint=dict(task.checkpoint), engine=engine, store=make_store(settings),
                          settings=settings, on_ray=on_ray)
        stop = threading.Event()
        beater = threading.Thread(target=_beat, args=(engine, task_id, settings.task_heartbeat_timeout_s / 3, stop),
                                  daemon=True)
        beater.start()
        try:
            result = handlers[task.type](ctx)
        except TaskCancelled as e:
            finish(engine, task_id, TaskState.cancelled, error=e.message, error_code=e.code)
            return TaskState.cancelled.value
        except LiveTalkingError as e:
            finish(engine, task_id, TaskState.failed, error=e.message, error_code=e.code)
            return TaskState.failed.value
        except Exception as e:
            finish(engine, task_id, TaskState.failed, error=f"{type(e).__name__}: {e}", error_code="task.crashed")
            raise
        finally:
            stop.set()
            beater.join()
        finish(engine, task_id, TaskState.succeeded, result=result)
        return TaskState.succeeded.value
    finally:
        engine.dispose()
