"""Where the generator trains: in this process, or as a Ray Train job of N workers (DDP), resumable either way.

In process, each epoch's snapshot goes to `save` (the task keeps it in the artifact store) and a
restart continues from it. On Ray, rank 0 reports each epoch's snapshot as the run's checkpoint;
a killed worker is restarted from the last one (FailureConfig), and a run name fixed per task
with a persistent storage lets a restarted task pick its run up again.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from livetalking.nets.lipsync import LipSyncConfig
from livetalking.nets.syncnet import SyncNet, SyncNetConfig, load_syncnet
from livetalking.train_jobs.avatar_data import AvatarClip
from livetalking.train_jobs.avatar_train import TrainConfig, fit_generator
from livetalking.train_jobs.ray_train import torch_job

SNAPSHOT_FILE = "generator.pt"
Progress = Callable[[int, dict], None]


@dataclass(frozen=True)
class RayPlacement:
    """How a Ray Train run is laid out: workers, where its checkpoints live, how often a worker may die."""

    workers: int = 1
    storage: str | None = None
    run_name: str | None = None
    max_failures: int = 2


def _load_snapshot(path: Path) -> dict:
    return torch.load(path, weights_only=False, map_location="cpu")


def ray_train_loop(config: dict) -> None:
    """The Ray Train worker: resume from the run's checkpoint if there is one, train, report every epoch."""
    import ray
    import ray.train
    import ray.train.torch

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    clip = ray.get(config["clip"])
    resume = None
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            resume = _load_snapshot(Path(folder) / SNAPSHOT_FILE)

    def on_epoch(epoch: int, metrics: dict, snapshot: Callable[[], dict]) -> None:
        if rank != 0:
            ray.train.report(metrics, checkpoint=None)
            return
        with tempfile.TemporaryDirectory() as folder:
            torch.save(snapshot(), Path(folder) / SNAPSHOT_FILE)
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))

    syncnet = None
    if config.get("syncnet") is not None:
        state, net_config = config["syncnet"]
        syncnet = load_syncnet(state, SyncNetConfig(**net_config))
    fit_generator(clip, range(*config["train_frames"]), LipSyncConfig.from_dict(config["model"]),
                  TrainConfig(**config["train"]), config.get("init_state"), on_epoch, resume, rank, world,
                  wrap=ray.train.torch.prepare_model if world > 1 else (lambda m: m),
                  device=ray.train.torch.get_device(), syncnet=syncnet)


def train_on_ray(clip: AvatarClip, train_frames: range, model: LipSyncConfig, config: TrainConfig,
                 init_state: dict | None, placement: RayPlacement,
                 syncnet: SyncNet | None = None) -> tuple[dict, dict]:
    """Run ray_train_loop on the connected cluster; returns (the last epoch's weights, its metrics)."""
    import ray

    loop_config = {"clip": ray.put(clip), "train_frames": (train_frames.start, train_frames.stop),
                   "model": model.as_dict(), "train": config.as_dict(), "init_state": init_state,
                   "syncnet": None if syncnet is None else (syncnet.state_dict(), syncnet.config.as_dict())}
    with torch_job(ray_train_loop, loop_config, config.use_gpu, "avatar", workers=placement.workers,
                   storage=placement.storage, max_failures=placement.max_failures,
                   run_name=placement.run_name) as (folder, metrics):
        snapshot = _load_snapshot(folder / SNAPSHOT_FILE)
    return snapshot["model"], {**snapshot["metrics"], "ray_workers": float(placement.workers)}


def train_in_process(clip: AvatarClip, train_frames: range, model: LipSyncConfig, config: TrainConfig,
                     init_state: dict | None, resume: dict | None, save: Callable[[dict], None],
                     progress: Progress, syncnet: SyncNet | None = None) -> tuple[dict, dict]:
    """fit_generator here, handing every epoch's snapshot to `save`."""
    def on_epoch(epoch: int, metrics: dict, snapshot: Callable[[], dict]) -> None:
        save(snapshot())
        progress(epoch, metrics)

    state, metrics = fit_generator(clip, train_frames, model, config, init_state, on_epoch, resume, syncnet=syncnet)
    return state, {**metrics, "ray_workers": 0.0}
