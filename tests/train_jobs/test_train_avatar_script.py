"""scripts/train_avatar.sh against a real two-node Ray cluster on this machine (`ray start --head` and a second
`ray start` node, one CPU each): the training is submitted with `ray job submit`, recorded as a running task of
the platform (never queued, so no task runner can race it), and its Ray Train job of two workers, one CPU each,
can only run with one worker on each node."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from livetalking.platform.auth import ensure_tenant
from livetalking.platform.db import make_engine, migrate, session_scope
from livetalking.platform.store import LocalStore
from livetalking.platform.tables import Avatar, ModelVersion, Task, TaskState
from tests.fixtures.avatars import accepted_avatar, prepare_shared_take_file, settings_with_base_models

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).parent / "ray"
# `ray start` turns token authentication on (the token in ~/.ray/auth_token); its clients must be told so
ENV = {**os.environ, "RAY_AUTH_MODE": "token"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive_nodes(dashboard: str) -> int:
    listed = subprocess.run([RAY, "list", "nodes", "--address", dashboard, "--format", "json"], capture_output=True,
                            text=True, timeout=60, env=ENV)
    return sum(node["state"] == "ALIVE" for node in json.loads(listed.stdout)) if listed.returncode == 0 else 0


@pytest.fixture(scope="module")
def cluster():
    """A head node and a worker node, each of one CPU, in their own session folder; their dashboard URL."""
    gcs, dash = free_port(), free_port()
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # Ray's socket paths must stay short
    common = ["--block", "--num-cpus=1", "--disable-usage-stats"]
    head = subprocess.Popen([RAY, "start", "--head", f"--port={gcs}", "--include-dashboard=true",
                             "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}", f"--temp-dir={temp}", *common],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    nodes = [head]
    dashboard = f"http://127.0.0.1:{dash}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{dashboard}/api/version", timeout=2)
                break
            except urllib.error.HTTPError:   # up, and asking for the token
                break
            except OSError:
                time.sleep(1)
        nodes.append(subprocess.Popen([RAY, "start", f"--address=127.0.0.1:{gcs}", *common],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV))
        while alive_nodes(dashboard) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert alive_nodes(dashboard) == 2, "the two-node cluster did not come up"
        yield dashboard
    finally:
        for node in reversed(nodes):
            node.terminate()
            node.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The platform's SQLite database and store, holding a tenant and an avatar with a prepared real take."""
    root = tmp_path_factory.mktemp("cluster-train")
    settings = settings_with_base_models(root, train_storage=str(root / "runs"))
    settings.data_root.mkdir(parents=True)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with session_scope(engine) as session:
        tenant_id = ensure_tenant(session, "studio").id
    manifest = prepare_shared_take_file(settings, LocalStore(settings.models_root), "talking_face_kh", str(tenant_id))
    yield settings, engine, tenant_id, accepted_avatar(engine, tenant_id, manifest)
    engine.dispose()


def submit(settings, dashboard: str, *args: str) -> subprocess.CompletedProcess:
    env = {**ENV, "LT_DATA_ROOT": str(settings.data_root), "LT_MODELS_ROOT": str(settings.models_root),
           "LT_TRAIN_STORAGE": settings.train_storage}
    return subprocess.run(["bash", str(ROOT / "scripts" / "train_avatar.sh"), *args, "--address", dashboard],
                          env=env, capture_output=True, text=True, timeout=1200)


def test_a_ray_job_trains_the_avatar_over_two_nodes(cluster, platform):
    settings, engine, tenant_id, avatar_id = platform
    done = submit(settings, cluster, str(avatar_id), "--tenant", str(tenant_id), "--workers", "2", "--epochs", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with session_scope(engine) as session:
        task = session.get(Task, session.get(Avatar, avatar_id).task_id)
        version = session.get(ModelVersion, uuid.UUID(task.result["model_id"]))
    assert task.state is TaskState.succeeded and task.runner_id.startswith("ray-job-") and task.attempts == 1
    assert version.target_id == avatar_id and version.metrics["train_ray_workers"] == 2.0
    assert version.metrics["train_epoch"] == 1.0 and "real_sync_preference" in version.metrics
    assert list((Path(settings.train_storage) / f"avatar-{task.id}").glob("checkpoint_*"))


def test_a_bad_submission_fails_the_job_and_leaves_no_task(cluster, platform):
    settings, engine, tenant_id, _ = platform
    with session_scope(engine) as session:
        before = len(session.exec(select(Task)).all())
    done = submit(settings, cluster, str(uuid.uuid4()), "--tenant", str(tenant_id), "--epochs", "1")
    assert done.returncode != 0 and "avatar.not_found" in done.stdout + done.stderr
    with session_scope(engine) as session:
        assert len(session.exec(select(Task)).all()) == before
    missing = subprocess.run(["bash", str(ROOT / "scripts" / "train_avatar.sh"), str(uuid.uuid4()), "--address",
                              cluster], capture_output=True, text=True, timeout=60, env=ENV)
    assert missing.returncode == 2 and "--tenant" in missing.stderr
