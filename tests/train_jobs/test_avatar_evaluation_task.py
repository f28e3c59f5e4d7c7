"""models:evaluate end to end on a real prepared take (talking_face_kh, 8 s): the API queues it, the task runner
runs it, the version is judged by the face mesh on the held-out tail, and a failing active version is rolled back
to the newest earlier version whose recorded metrics pass (or, without one, kept and its avatar sent to review).

The versions are untrained generators published with recorded metrics (no training run): the gate is raised to
a mouth-opening correlation of 0.95, which no untrained generator reaches on re-evaluation and which the recorded
metrics of the passing versions claim."""

import json
import uuid

import pytest
import torch
from typer.testing import CliRunner

from livetalking import cli
from livetalking.client import Client
from livetalking.nets.lipsync import PREVIEW_96, LipSyncGenerator
from livetalking.platform.db import session_scope
from livetalking.platform.tables import Avatar, ModelKind, ModelStatus, ModelVersion, Role, Task
from livetalking.registry.publish import PublishTarget
from livetalking.registry.service import promote_model
from livetalking.serve_apps.api.app import build_context
from livetalking.serve_apps.task_runner import TaskRunner, ThreadExecutor
from livetalking.train_jobs.avatar_eval import GateThresholds, gate
from livetalking.train_jobs.avatar_model import publish_version
from tests.conftest import Keys, client_for
from tests.fixtures.avatars import accepted_avatar, prepare_shared_take_file, settings_with_base_models
from tests.serve_apps.test_avatars_api import _wait_for

PASSING = {"mouth_open_corr": 0.97, "replay_mouth_open_corr": 0.2, "other_audio_mouth_open_corr": 0.1,
           "mouth_landmark_dist": 0.05, "replay_mouth_landmark_dist": 0.1}
FAILING = {**PASSING, "mouth_open_corr": 0.5}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The API over a store holding the prepared take, with a running task runner and a gate of corr >= 0.95."""
    settings = settings_with_base_models(tmp_path_factory.mktemp("evaluate"), avatar_gate_min_mouth_corr=0.95)
    context = build_context(settings)
    keys = Keys(context)
    manifest = prepare_shared_take_file(settings, context.store, "talking_face_kh", str(keys.tenant_ids["own"]))
    runner = TaskRunner(settings, context.engine, ThreadExecutor(settings))
    context.on_task_queued = runner.wake
    runner.start()
    yield context, keys, manifest
    runner.stop()
    context.engine.dispose()


def prepared_avatar(context, tenant_id: uuid.UUID, manifest: dict) -> PublishTarget:
    avatar_id = accepted_avatar(context.engine, tenant_id, manifest)
    return PublishTarget(context.engine, context.store, tenant_id, avatar_id, ModelKind.avatar)


def publish(context, target: PublishTarget, metrics: dict) -> uuid.UUID:
    """An untrained 96 px generator as the avatar's next version, with these recorded metrics and their verdict."""
    torch.manual_seed(0)
    failures = gate(metrics, GateThresholds.from_settings(context.settings))
    return publish_version(target, LipSyncGenerator(PREVIEW_96).state_dict(), PREVIEW_96, {}, {}, metrics,
                           failures).model_id


def model(context, model_id) -> ModelVersion:
    with session_scope(context.engine) as session:
        return session.get(ModelVersion, uuid.UUID(str(model_id)))


def avatar(context, target: PublishTarget) -> Avatar:
    with session_scope(context.engine) as session:
        return session.get(Avatar, target.persona_id)


def test_a_failing_active_version_is_rolled_back_to_the_newest_earlier_version_that_passes(world):
    context, keys, manifest = world
    target = prepared_avatar(context, keys.tenant_ids["own"], manifest)
    v1 = publish(context, target, PASSING)
    v2 = publish(context, target, FAILING)
    promote_model(context.engine, target.tenant_id, v2)  # an operator promoted it after review
    v3 = publish(context, target, PASSING)
    assert avatar(context, target).active_version_id == v3 and model(context, v3).replaces_version_id == v2
    client, operator = client_for(context), keys.headers(Role.operator)
    queued = client.post(f"/api/v1/models/{v3}:evaluate", headers=operator)
    assert queued.status_code == 202, queued.text
    task = _wait_for(client, f"/api/v1/tasks/{queued.json()['id']}", operator, ("succeeded", "failed", "cancelled"),
                     300)
    assert task["state"] == "succeeded", (task["error_code"], task["error"])
    result = task["result"]
    assert not result["passed"] and result["failures"][0].startswith("mouth_open_corr")
    assert result["was_active"] and not result["review"]
    assert result["rolled_back_to"] == {"model_id": str(v1), "version": "v1"}
    assert result["replaced_metrics"]["mouth_open_corr"] == 0.97 and result["metrics"]["mouth_open_corr"] < 0.95
    assert result["metrics"]["held_out_frames"] == 40
    now = avatar(context, target)
    assert now.active_version_id == v1 and now.model_version == "v1" and now.state == "ready"
    evaluated = model(context, v3)
    assert evaluated.status is ModelStatus.archived and model(context, v1).status is ModelStatus.active
    assert evaluated.metrics["mouth_open_corr"] == result["metrics"]["mouth_open_corr"]
    assert "onnx_max_abs_diff" in evaluated.metrics
    events = client.get("/api/v1/audit", headers=keys.headers(Role.admin)).json()
    actions = {e["action"]: e for e in events}
    assert actions["POST /api/v1/models/{model_id}:evaluate"]["target"] == str(v3)
    rollback = actions["models:evaluate rollback"]
    assert rollback["target"] == f"{v3},{v1}" and rollback["path"] == f"/api/v1/tasks/{task['id']}"
    with session_scope(context.engine) as session:
        assert rollback["actor"] == str(session.get(Task, uuid.UUID(task["id"])).created_by)


def test_without_an_earlier_passing_version_the_active_one_stays_and_the_avatar_goes_to_review(world, monkeypatch):
    context, keys, manifest = world
    target = prepared_avatar(context, keys.tenant_ids["own"], manifest)
    only = publish(context, target, PASSING)
    api = Client("http://testserver", None)
    api.http = client_for(context)
    api.http.headers.update(keys.headers(Role.operator))
    monkeypatch.setattr(cli, "_client", lambda url, key: api)
    run = CliRunner().invoke(cli.app, ["models", "evaluate", str(only)])
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout)
    assert not result["passed"] and result["was_active"] and result["review"] and result["rolled_back_to"] is None
    now = avatar(context, target)
    assert now.active_version_id == only and now.state == "review"
    assert now.metrics["mouth_open_corr"] == result["metrics"]["mouth_open_corr"] < 0.95
