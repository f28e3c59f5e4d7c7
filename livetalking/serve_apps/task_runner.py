"""The task runner: claims queued tasks from the database and runs them as Ray tasks (or threads without Ray)."""

import logging
import socket
import threading
import uuid
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from livetalking.platform.db import session_scope
from livetalking.platform.tables import Task, TaskState
from livetalking.platform.store import make_store
from livetalking.platform.task_types import TASK_TYPES, TaskResources
from livetalking.platform.tasks import claim_next, finish, recover_stale
from livetalking.platform.upload_sessions import purge_expired
from livetalking.settings import Settings
from livetalking.train_jobs.execute import execute_task
from livetalking.train_jobs.handlers import Handler

log = logging.getLogger(__name__)


class ThreadExecutor:
    """Runs tasks in local threads; cancellation is cooperative (the handler's next report raises)."""

    def __init__(self, settings: Settings, handlers: Mapping[str, Handler] | None = None):
        self.settings, self.handlers = settings, handlers
        self.threads: dict[uuid.UUID, threading.Thread] = {}

    def submit(self, task: Task) -> str:
        thread = threading.Thread(target=execute_task, args=(task.id, self.settings, self.handlers),
                                  name=f"task-{task.id}", daemon=True)
        thread.start()
        self.threads[task.id] = thread
        return thread.name

    def finished(self) -> dict[uuid.UUID, str | None]:
        done = {task_id: None for task_id, t in self.threads.items() if not t.is_alive()}
        for task_id in done:
            del self.threads[task_id]
        return done

    def cancel(self, task_id: uuid.UUID) -> None:
        """Nothing to force: the handler stops at its next progress report."""


class RayExecutor:
    """Runs each task as a Ray task with its type's CPUs and GPUs (platform/task_types); a cancel request
    interrupts it."""

    def __init__(self, settings: Settings, resources: Mapping[str, TaskResources] = TASK_TYPES):
        import ray

        self.ray = ray
        self.settings, self.resources = settings, resources
        self.remote = ray.remote(max_retries=0)(execute_task)
        self.refs: dict[uuid.UUID, object] = {}

    def submit(self, task: Task) -> str:
        needs = self.resources.get(task.type, TaskResources())
        ref = self.remote.options(name=f"task:{task.type}", num_cpus=needs.num_cpus,
                                  num_gpus=needs.num_gpus).remote(task.id, self.settings, None, True)
        self.refs[task.id] = ref
        return ref.hex()

    def finished(self) -> dict[uuid.UUID, str | None]:
        if not self.refs:
            return {}
        ready, _ = self.ray.wait(list(self.refs.values()), num_returns=len(self.refs), timeout=0)
        done: dict[uuid.UUID, str | None] = {}
        for task_id, ref in list(self.refs.items()):
            if ref not in ready:
                continue
            del self.refs[task_id]
            try:
                self.ray.get(ref)
                done[task_id] = None
            except self.ray.exceptions.TaskCancelledError:
                done[task_id] = "cancelled"
            except self.ray.exceptions.RayError as e:
                done[task_id] = f"{type(e).__name__}: {e}"
        return done

    def cancel(self, task_id: uuid.UUID) -> None:
        ref = self.refs.get(task_id)
        if ref is not None:
            self.ray.cancel(ref, force=False)


class TaskRunner:
    """Polls the task table, keeps up to `task_max_concurrency` tasks running, and cleans up after crashes."""

    def __init__(self, settings: Settings, engine: Engine, executor):
        self.settings, self.engine, self.executor = settings, engine, executor
        self.store = make_store(settings)
        self.runner_id = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.running: set[uuid.UUID] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Recover what a dead runner left running, then poll in a background thread."""
        recover_stale(self.engine, self.settings.task_heartbeat_timeout_s)
        self._thread = threading.Thread(target=self._loop, name="task-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            try:
                self.tick(recover=ticks % 20 == 0)
            except Exception:
                log.exception("task runner tick failed; retrying at the next poll")
            ticks += 1
            self._wake.wait(self.settings.task_poll_interval_s)
            self._wake.clear()

    def tick(self, recover: bool = False) -> None:
        """One round: reap finished tasks, forward cancel requests, start queued tasks."""
        if recover:
            recover_stale(self.engine, self.settings.task_heartbeat_timeout_s)
            purge_expired(self.engine, self.store)
        for task_id, problem in self.executor.finished().items():
            self.running.discard(task_id)
            if problem is not None:
                self._record_lost(task_id, problem)
        self._forward_cancels()
        while len(self.running) < self.settings.task_max_concurrency:
            task = claim_next(self.engine, self.runner_id)
            if task is None:
                break
            ref = self.executor.submit(task)
            with session_scope(self.engine) as session:
                row = session.get(Task, task.id)
                row.ray_ref = ref
                session.add(row)
            self.running.add(task.id)

    def _forward_cancels(self) -> None:
        if not self.running:
            return
        with session_scope(self.engine) as session:
            for task_id in self.running:
                row = session.get(Task, task_id)
                if row is not None and row.cancel_requested and row.state is TaskState.running:
                    self.executor.cancel(task_id)

    def _record_lost(self, task_id: uuid.UUID, problem: str) -> None:
        """A task whose worker died or was cancelled before it could record its own end."""
        with session_scope(self.engine) as session:
            row = session.get(Task, task_id)
            still_running = row is not None and row.state is TaskState.running
        if still_running:
            state = TaskState.cancelled if problem == "cancelled" else TaskState.failed
            finish(self.engine, task_id, state, error=problem, error_code=f"task.{state.value}")
