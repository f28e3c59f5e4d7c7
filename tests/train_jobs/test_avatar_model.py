"""The lip-sync model on a real take: trained on its first 80 %, judged by the face mesh on the held-out 20 %
against the replay and other-audio baselines; exports checked; a broken run (audio shuffled against the
frames) rejected by the gate with the active version kept; bad inputs refused with nothing left behind.

The take is a real woman speaking to camera (talking_face_kh, 8 s): the 96 px model trains 30 epochs on
its first 160 frames in about 4 minutes on 2 cores. (On the 33.6 s singing take the held-out tail's
audio does not follow the mouth as its first part does; its numbers are in docs/avatar-model.md.)"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from livetalking.errors import IntegrityFailure, InvalidInput
from livetalking.nets.lipsync import PREVIEW_96
from livetalking.platform.db import make_engine, migrate, session_scope
from livetalking.platform.auth import ensure_tenant
from livetalking.platform.store import LocalStore, scoped_key
from livetalking.platform.tables import Avatar, ModelKind, ModelStatus, ModelVersion
from livetalking.registry.exporters import export_onnx
from livetalking.registry.publish import PublishTarget
from livetalking.registry.service import promote_model
from livetalking.train_jobs.avatar_data import AvatarClip, split_held_out
from livetalking.train_jobs.clip_loader import load_clip
from livetalking.train_jobs.avatar_export import probe_inputs, read_model_file
from livetalking.train_jobs.avatar_model import TrainPlan, split_takes, train_avatar
from livetalking.train_jobs.avatar_train import TrainConfig
from tests.fixtures.avatars import prepare_shared_take, settings_with_base_models

TRAINING = TrainConfig(epochs=30, batch_size=4)
PLAN = TrainPlan(PREVIEW_96, TRAINING)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Settings, a migrated SQLite database, a store with the base models, and a tenant."""
    settings = settings_with_base_models(tmp_path_factory.mktemp("avatar-model"))
    settings.data_root.mkdir(parents=True)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with session_scope(engine) as session:
        tenant_id = ensure_tenant(session, "studio").id
    return settings, engine, LocalStore(settings.models_root), tenant_id


@pytest.fixture(scope="module")
def talking(world) -> AvatarClip:
    """8 s of a real woman speaking English to camera, 96 px crops."""
    settings, _, store, tenant_id = world
    return load_clip(store, prepare_shared_take(settings, store, "talking_face_kh", str(tenant_id)), 96,
                     PREVIEW_96.audio)


def new_avatar(world) -> PublishTarget:
    _, engine, store, tenant_id = world
    with session_scope(engine) as session:
        avatar = Avatar(display_name="singer", tenant_id=tenant_id)
        session.add(avatar)
        session.flush()
        return PublishTarget(engine, store, tenant_id, avatar.id, ModelKind.avatar)


@pytest.fixture(scope="module")
def trained(world, talking):
    """One avatar with a version trained on the real take (gated by the default rules), made active as an
    operator would after review when the gate could not prove it on this short tail."""
    target = new_avatar(world)
    snapshots = []
    version = train_avatar([talking], plan=PLAN, target=target, settings=world[0], save=snapshots.append)
    if version.gate_failures:
        promote_model(target.db, target.tenant_id, version.model_id)
    return target, version, snapshots


def test_the_held_out_tail_is_never_trained_on(talking):
    train, held = split_held_out(talking.frames)
    assert train.stop == held.start and len(held) == round(talking.frames * 0.2)
    clip, train_frames, held_out = split_takes([talking])
    assert (clip.crops[held_out.start] == talking.crops[held.start]).all()


def test_a_model_trained_on_the_first_80_percent_beats_both_baselines(trained):
    _, version, snapshots = trained
    m = version.metrics
    assert m["held_out_frames"] == 40 and m["real_mouth_open_std"] > 0.02
    assert m["reference_draws"] == 4
    assert m["mouth_open_corr"] > m["replay_mouth_open_corr"], m
    assert m["mouth_open_corr"] > m["other_audio_mouth_open_corr"] + 0.25, m
    assert m["mouth_landmark_dist"] < 0.8 * m["replay_mouth_landmark_dist"], m
    assert m["mouth_psnr"] > m["replay_mouth_psnr"] + 1.0
    assert [s["epoch"] for s in snapshots] == list(range(1, TRAINING.epochs + 1))


def test_the_gate_judges_the_version_and_its_exports_match_pytorch(trained):
    target, version, _ = trained
    # 40 held-out frames leave a correlation uncertain by about +-0.16: the replay margin may stay unproven here
    assert version.status == ("candidate" if version.gate_failures else "active")
    assert all("replay baseline" in failure for failure in version.gate_failures), version.gate_failures
    assert version.metrics["onnx_max_abs_diff"] < 1e-3 and version.metrics["torchscript_max_abs_diff"] < 1e-3
    with session_scope(target.db) as session:
        model = session.get(ModelVersion, version.model_id)
        assert session.get(Avatar, target.persona_id).active_version_id == model.id
        assert set(model.formats) == {"pt", "torchscript", "onnx"}
        files = model.config["files"]
    assert set(files) == {"avatar.json", "triton/config.pbtxt", "triton/1/model.onnx"}
    config = target.store.get_bytes(files["triton/config.pbtxt"]["key"], files["triton/config.pbtxt"]["sha256"])
    assert b'backend: "onnxruntime"' in config and b"max_batch_size: 32" in config
    with target.store.open_local(model.artifacts["pt"]["key"], sha256=model.artifacts["pt"]["sha256"]) as pt:
        stored = read_model_file(pt)
    state, config = stored.state, stored.config
    assert stored.syncnet is not None and stored.syncnet.config.audio == config.audio
    assert config == PREVIEW_96
    import onnxruntime

    faces, audio = probe_inputs(config, batch=5, seed=3)
    with target.store.open_local(model.artifacts["onnx"]["key"], sha256=model.artifacts["onnx"]["sha256"]) as onnx:
        got = onnxruntime.InferenceSession(str(onnx)).run(None, {"faces": faces.numpy(), "audio": audio.numpy()})[0]
    from livetalking.train_jobs.avatar_export import load_generator

    with torch.no_grad():
        expected = load_generator(state, config)(faces, audio).numpy()
    assert got.shape == (5, 3, 96, 96) and np.abs(got - expected).max() < 1e-3


def test_a_run_on_shuffled_audio_is_rejected_and_the_active_version_kept(world, talking, trained):
    target, good, _ = trained
    order = np.random.default_rng(0).permutation(talking.frames)
    shuffled = replace(talking, audio=talking.audio[order], level_db=talking.level_db[order])
    bad = train_avatar([shuffled], plan=TrainPlan(PREVIEW_96, replace(TRAINING, epochs=10)), target=target,
                       settings=world[0])
    assert bad.status == "candidate" and bad.gate_failures, bad.metrics
    assert bad.metrics["mouth_open_corr"] < good.metrics["mouth_open_corr"]
    with session_scope(target.db) as session:
        avatar = session.get(Avatar, target.persona_id)
        assert avatar.active_version_id == good.model_id and avatar.state == "review"
        assert session.get(ModelVersion, bad.model_id).parent_version_id == good.model_id
        assert session.get(ModelVersion, good.model_id).status is ModelStatus.active


def test_a_take_too_short_to_train_is_refused_and_leaves_nothing(world, talking):
    target = new_avatar(world)
    with pytest.raises(InvalidInput) as error:
        train_avatar([talking.slice(0, 60)], plan=PLAN, target=target, settings=world[0])
    assert error.value.code == "avatar.too_short"
    prefix = Path(target.store.root) / scoped_key(target.tenant_id, "models", "avatars", str(target.persona_id))
    assert not prefix.exists()
    with session_scope(target.db) as session:
        assert session.query(ModelVersion).filter(ModelVersion.target_id == target.persona_id).count() == 0


def test_an_export_that_differs_from_pytorch_is_refused(tmp_path):
    class Drifting(torch.nn.Module):
        def forward(self, x):
            return x + torch.rand_like(x)

    with pytest.raises(IntegrityFailure) as error:
        export_onnx(Drifting(), (torch.zeros(1, 4),), tmp_path / "m.onnx", ["x"], ["y"], {}, code="avatar.export")
    assert error.value.code == "avatar.export"


def test_training_plans_refuse_what_they_cannot_run(tmp_path):
    from livetalking.train_jobs.avatar_job import RayPlacement
    from livetalking.train_jobs.avatar_model import plan_for
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    with pytest.raises(InvalidInput) as unknown:
        plan_for(settings, "huge")
    with pytest.raises(InvalidInput) as one_trial:
        plan_for(settings, tune_trials=1, ray=RayPlacement())
    with pytest.raises(InvalidInput) as local:
        plan_for(settings, tune_trials=4)
    assert (unknown.value.code, one_trial.value.code, local.value.code) == (
        "avatar.unknown_preset", "avatar.tune_trials", "avatar.tune_needs_ray")
    plan = plan_for(settings, "quality", epochs=3, ray=RayPlacement(), tune_trials=4)
    assert plan.tune_trials == 4 and plan.train.epochs == 3 and plan.model.size == 256
