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
