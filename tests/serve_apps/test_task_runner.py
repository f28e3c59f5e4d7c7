"""The task center: priorities, progress, cancel, retry with resume, and recovery of tasks a dead runner left."""

import threading
import time
import uuid
from datetime import timedelta

from sqlmodel import select

from livetalking.errors import InvalidInput
from livetalking.platform.db import session_scope
from livetalking.platform.tables import Role, Task, TaskState
from livetalking.platform.tasks import TaskContext, claim_next, create_task
from livetalking.platform.timeutil import utcnow
from livetalking.serve_apps.task_runner import TaskRunner, ThreadExecutor
from livetalking.train_jobs.handlers import DEFAULT_HANDLERS
from tests.conftest import model_card, register_model


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def task_row(context, task_id) -> Task:
    with session_scope(context.engine) as session:
        return session.get(Task, uuid.UUID(str(task_id)))


class Steps:
    """A test handler: counts through `payload.steps`, checkpointing each, waiting on a gate at `payload.gate_at`."""

    def __init__(self):
        self.gate = threading.Event()
        self.seen: list[tuple[str, int]] = []

    def __call__(self, ctx: TaskContext) -> dict:
        steps = ctx.payload["steps"]
        for step in range(ctx.checkpoint.get("done", 0), steps):
            if step == ctx.payload.get("gate_at"):
                self.gate.wait(10)
            if step == ctx.payload.get("fail_at") and not ctx.checkpoint.get("failed_once"):
                ctx.save({"done": step, "failed_once": True})
                raise InvalidInput("simulated failure", code="test.failure")
            ctx.report(step / steps, f"step {step}")
            self.seen.append((ctx.payload["name"], step))
            ctx.save({**ctx.checkpoint, "done": step + 1})
        return {"steps": steps}


def runner_with(context, handler, concurrency=1):
    handlers = {**DEFAULT_HANDLERS, "test:steps": handler}
    settings = context.settings.model_copy(update={"task_max_concurrency": concurrency})
    return TaskRunner(settings, context.engine, ThreadExecutor(settings, handlers)), set(handlers)


def queue(context, tenant_id, task_type, payload, known, priority=0):
    with session_scope(context.engine) as session:
        return create_task(session, tenant_id, task_type, payload, known_types=known, priority=priority).id


def test_tasks_run_by_priority_then_age_and_report_results(context, keys):
    handler = Steps()
    runner, known = runner_with(context, handler)
    tenant = keys.tenant_ids["own"]
    low = queue(context, tenant, "test:steps", {"name": "low", "steps": 1}, known, priority=0)
    high = queue(context, tenant, "test:steps", {"name": "high", "steps": 1}, known, priority=5)
    older_high = task_row(context, high)
    runner.start()
    try:
        wait_for(lambda: task_row(context, low).state is TaskState.succeeded)
    finally:
        runner.stop()
    assert [name for name, _ in handler.seen] == ["high", "low"]
    done = task_row(context, high)
    assert done.progress == 1.0 and done.result == {"steps": 1} and done.attempts == 1
    assert done.started_at >= older_high.created_at and done.finished_at >= done.started_at


def test_cancel_a_running_task_stops_it_at_its_next_report(client, context, keys):
    handler = Steps()
    runner, known = runner_with(context, handler)
    task_id = queue(context, keys.tenant_ids["own"], "test:steps",
                    {"name": "long", "steps": 5, "gate_at": 2}, known)
    runner.start()
    try:
        wait_for(lambda: ("long", 1) in handler.seen)
        response = client.post(f"/api/v1/tasks/{task_id}:cancel", headers=keys.headers(Role.operator))
        assert response.status_code == 200 and response.json()["cancel_requested"]
        handler.gate.set()
        row = wait_for(lambda: (r := task_row(context, task_id)).state is TaskState.cancelled and r)
    finally:
        runner.stop()
    assert row.error_code == "task.cancelled" and ("long", 2) not in handler.seen
    again = client.post(f"/api/v1/tasks/{task_id}:cancel", headers=keys.headers(Role.operator))
    assert again.status_code == 409 and again.json()["error"]["code"] == "task.finished"


def test_cancel_a_queued_task_and_retry_it(client, keys):
    created = client.post("/api/v1/tasks", json={"type": "models:verify", "payload": {}},
                          headers=keys.headers(Role.operator)).json()
    assert created["state"] == "queued"
    cancelled = client.post(f"/api/v1/tasks/{created['id']}:cancel", headers=keys.headers(Role.operator)).json()
    assert cancelled["state"] == "cancelled"
    retried = client.post(f"/api/v1/tasks/{created['id']}:retry", headers=keys.headers(Role.operator)).json()
    assert retried["state"] == "queued" and not retried["cancel_requested"]
    unknown = client.post("/api/v1/tasks", json={"type": "avatars:teleport"}, headers=keys.headers(Role.operator))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "task.unknown_type"


def test_a_failed_task_resumes_from_its_checkpoint_on_retry(client, context, keys):
    handler = Steps()
    runner, known = runner_with(context, handler)
    task_id = queue(context, keys.tenant_ids["own"], "test:steps", {"name": "flaky", "steps": 4, "fail_at": 2},
                    known)
    runner.start()
    try:
        failed = wait_for(lambda: (r := task_row(context, task_id)).state is TaskState.failed and r)
        assert failed.error_code == "test.failure" and failed.error == "simulated failure"
        response = client.post(f"/api/v1/tasks/{task_id}:retry", headers=keys.headers(Role.operator))
        assert response.status_code == 200
        runner.wake()
        done = wait_for(lambda: (r := task_row(context, task_id)).state is TaskState.succeeded and r)
    finally:
        runner.stop()
    assert handler.seen == [("flaky", 0), ("flaky", 1), ("flaky", 2), ("flaky", 3)]
    assert done.attempts == 2


def test_a_task_left_running_by_a_dead_runner_is_resumed_after_restart(context, keys):
    handler = Steps()
    runner, known = runner_with(context, handler)
    task_id = queue(context, keys.tenant_ids["own"], "test:steps", {"name": "orphan", "steps": 3}, known)
    claimed = claim_next(context.engine, "runner-that-died")
    assert claimed.id == task_id
    with session_scope(context.engine) as session:
        row = session.get(Task, task_id)
        row.checkpoint = {"done": 2}
        row.heartbeat_at = utcnow() - timedelta(minutes=5)
    runner.start()
    try:
        done = wait_for(lambda: (r := task_row(context, task_id)).state is TaskState.succeeded and r)
    finally:
        runner.stop()
    assert handler.seen == [("orphan", 2)]
    assert done.attempts == 2 and done.runner_id == runner.runner_id


def test_models_verify_finds_a_tampered_artifact(client, context, keys):
    good = register_model(client, keys.headers(), model_card(version="1")).json()
    bad = register_model(client, keys.headers(), model_card(version="2")).json()
    (context.settings.models_root / bad["artifacts"]["pt"]["key"]).write_bytes(b"tampered")
    runner, _ = runner_with(context, Steps())
    ok_task = queue(context, keys.tenant_ids["own"], "models:verify", {"model_ids": [good["id"]]},
                    DEFAULT_HANDLERS)
    bad_task = queue(context, keys.tenant_ids["own"], "models:verify", {"model_ids": [good["id"], bad["id"]]},
                     DEFAULT_HANDLERS)
    runner.start()
    try:
        wait_for(lambda: task_row(context, bad_task).state in (TaskState.succeeded, TaskState.failed))
        wait_for(lambda: task_row(context, ok_task).state is TaskState.succeeded)
    finally:
        runner.stop()
    assert task_row(context, ok_task).result == {"verified": {good["id"]: {"pt": "ok"}}}
    failed = task_row(context, bad_task)
    assert failed.state is TaskState.failed and failed.error_code == "store.integrity"
    listed = client.get("/api/v1/tasks", params={"state": "failed"}, headers=keys.headers(Role.viewer)).json()
    assert [t["id"] for t in listed] == [str(bad_task)]


def test_no_task_is_lost_when_many_are_queued_at_once(context, keys):
    handler = Steps()
    runner, known = runner_with(context, handler, concurrency=3)
    ids = [queue(context, keys.tenant_ids["own"], "test:steps", {"name": f"t{i}", "steps": 1}, known)
           for i in range(12)]
    runner.start()
    try:
        wait_for(lambda: all(task_row(context, t).state is TaskState.succeeded for t in ids), timeout=30)
    finally:
        runner.stop()
    assert sorted(name for name, _ in handler.seen) == sorted(f"t{i}" for i in range(12))
    with session_scope(context.engine) as session:
        assert all(t.attempts == 1 for t in session.exec(select(Task)).all())


def test_every_task_type_has_a_handler_and_the_api_learns_them_without_the_training_stack():
    import subprocess
    import sys

    from livetalking.platform.task_types import TASK_TYPES

    assert set(DEFAULT_HANDLERS) == set(TASK_TYPES)
    assert all(r.num_cpus > 0 and r.num_gpus >= 0 for r in TASK_TYPES.values())
    probe = ("import sys, livetalking.serve_apps.api.app; "
             "print(sorted(m for m in ('torch', 'livetalking.train_jobs.handlers') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"
