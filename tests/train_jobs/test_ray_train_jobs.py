"""Both voice training jobs as Ray Train jobs (TorchTrainer, one CPU worker) on a local Ray."""

import numpy as np
import pytest
import torch

from livetalking.train_jobs.voice_train import TrainConfig, train_mapper
from livetalking.train_jobs.xtts_finetune import finetune_job
from tests.fixtures.media import librivox

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def test_the_spectral_mapper_trains_on_ray_train(local_ray):
    rng = np.random.default_rng(0)
    sources = [rng.normal(0, 1, (n, 40)).astype(np.float32) for n in (150, 260, 90)]
    targets = [s * 0.5 + 1.0 for s in sources]
    candidates, metrics = train_mapper(sources, targets, TrainConfig(steps=40, hidden=32, lr=3e-3))
    assert metrics["ray_train"] == 1.0 and metrics["val_l1"] <= metrics["start_val_l1"]
    assert {0, 5, 10, 20, 40, metrics["best_step"]} == set(candidates)
    state = candidates[metrics["best_step"]]
    assert state["in_mean"].shape == (40,) and all(torch.isfinite(v).all() for v in state.values())


def test_xtts_fine_tuning_runs_as_a_ray_train_job(local_ray, tiny_xtts_models, tmp_path):
    samples = [{"audio_file": str(p), "text": t, "language": "en"} for p, t in librivox()[:2]]
    metrics = finetune_job(tiny_xtts_models / "base" / "xtts_v2", samples, 2, 1e-3, tmp_path, use_gpu=False)
    assert metrics["ray_train"] == 1.0 and metrics["steps"] == 2
    assert "gpt.mel_head.weight" in torch.load(tmp_path / "model.pth", weights_only=True)["model"]


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """A real talking face (8 s, 25 fps), prepared, as 96 px crops."""
    from livetalking.platform.store import LocalStore
    from livetalking.train_jobs.clip_loader import load_clip
    from tests.fixtures.avatars import prepare_shared_take, settings_with_base_models

    settings = settings_with_base_models(tmp_path_factory.mktemp("ray-avatar"))
    store = LocalStore(settings.models_root)
    return load_clip(store, prepare_shared_take(settings, store, "talking_face_kh"), 96, "whisper_mel")


def _train_avatar_on_ray(clip, epochs: int, workers: int, storage, run_name: str):
    from livetalking.nets.lipsync import PREVIEW_96
    from livetalking.train_jobs.avatar_job import RayPlacement, train_on_ray
    from livetalking.train_jobs.avatar_train import TrainConfig

    return train_on_ray(clip, range(0, 160), PREVIEW_96, TrainConfig(epochs=epochs, batch_size=8), None,
                        RayPlacement(workers, str(storage), run_name, max_failures=2))


def test_the_avatar_generator_trains_with_ddp_over_two_workers(local_ray, short_clip, tmp_path):
    state, metrics = _train_avatar_on_ray(short_clip, 2, 2, tmp_path, "ddp")
    assert metrics["ray_workers"] == 2.0 and metrics["epoch"] == 2.0
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    assert list((tmp_path / "ddp").glob("checkpoint_*"))


def test_a_killed_worker_resumes_from_the_last_checkpoint(local_ray, short_clip, tmp_path):
    import os
    import signal
    import threading
    import time

    import psutil

    result = {}
    thread = threading.Thread(target=lambda: result.update(
        out=_train_avatar_on_ray(short_clip, 6, 1, tmp_path, "killed")))
    thread.start()
    deadline, killed = time.monotonic() + 240, None
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        if list((tmp_path / "killed").glob("checkpoint_*")):
            workers = [p.pid for p in psutil.process_iter(["cmdline"])
                       if "RayTrainWorker" in " ".join(p.info["cmdline"] or [])]
            if workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    thread.join(timeout=300)
    assert killed is not None, "no worker was seen alive after the first checkpoint"
    state, metrics = result["out"]
    assert metrics["epoch"] == 6.0
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_tuning_searches_the_learning_rate_and_loss_weights_under_asha(local_ray, tmp_path):
    from livetalking.nets.lipsync import PREVIEW_96
    from livetalking.train_jobs.avatar_train import TrainConfig
    from livetalking.train_jobs.avatar_tune import tune_training
    from tests.fixtures.mouth_clip import mouth_clip

    base = TrainConfig(epochs=2, batch_size=8)
    chosen, metrics = tune_training(mouth_clip(frames=96), range(0, 96), PREVIEW_96, base, trials=3,
                                    storage=str(tmp_path), name="tune")
    assert metrics["tune_trials"] == 3 and np.isfinite(metrics["tune_best_val_loss"])
    assert 3e-4 <= chosen.lr <= 3e-3 and 1 <= chosen.mouth_weight <= 6 and 0.2 <= chosen.ssim_weight <= 1
    assert (chosen.lr, chosen.mouth_weight) != (base.lr, base.mouth_weight) and chosen.epochs == 2
    assert (tmp_path / "tune").is_dir()
    with pytest.raises(ValueError, match="at least 2 trials"):
        tune_training(mouth_clip(frames=96), range(0, 96), PREVIEW_96, base, trials=1)
