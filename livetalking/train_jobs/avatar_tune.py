"""Ray Tune over the generator's learning rate and loss weights, with ASHA stopping the weak trials early.

Each trial trains on the first 85 % of the training frames and reports, every epoch, the loss of its
model on the last 15 % with the mouth drawn to the lip head's prediction (as at inference) and fixed
loss weights (TrainConfig's defaults), so trials that weigh their own losses differently are compared on
one scale. The held-out tail of the take stays out of the search: the gate judges the final model on
frames no trial saw. The best trial's values then train the final model on all training frames.
A trial costs a whole training run, so tuning is for the GPU tier (`quality`); each trial asks for one
CPU, or one GPU when the loop uses one.
"""

import shutil
import tempfile
import uuid
from dataclasses import replace

import numpy as np
import torch

from livetalking.nets.lipsync import LipSyncConfig, LipSyncGenerator, generator_inputs
from livetalking.nets.syncnet import SyncNet
from livetalking.train_jobs.avatar_data import AvatarClip
from livetalking.train_jobs.avatar_export import load_generator
from livetalking.train_jobs.avatar_losses import lower_face_weights, reconstruction_loss
from livetalking.train_jobs.avatar_train import TrainConfig, fit_generator, mouth_masks

VALIDATION_SHARE = 0.15
TUNED = ("lr", "mouth_weight", "ssim_weight")
JUDGED_BY = TrainConfig()


def search_space() -> dict:
    from ray import tune

    return {"lr": tune.loguniform(3e-4, 3e-3), "mouth_weight": tune.uniform(1.0, 6.0),
            "ssim_weight": tune.uniform(0.2, 1.0)}


def tuning_split(train_frames: range, share: float = VALIDATION_SHARE) -> tuple[range, range]:
    """(the frames trials train on, the frames they are compared on): the training part's last `share`."""
    cut = train_frames.start + int(round(len(train_frames) * (1 - share)))
    return range(train_frames.start, cut), range(cut, train_frames.stop)


def validation_loss(model: LipSyncGenerator, clip: AvatarClip, frames: np.ndarray, references: np.ndarray,
                    batch: int = 16) -> float:
    """Mean reconstruction loss (JUDGED_BY's weights) of `frames` generated with `references`, the mouth drawn to
    the lip head's reading of each frame's audio."""
    config = model.config
    masks = torch.from_numpy(mouth_masks(clip, frames, config.size))[:, None]
    model.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(frames), batch):
            target = torch.from_numpy(clip.crops[frames[s:s + batch]]).permute(0, 3, 1, 2).float() / 255
            reference = torch.from_numpy(clip.crops[references[s:s + batch]]).permute(0, 3, 1, 2).float() / 255
            audio = torch.from_numpy(clip.audio[frames[s:s + batch]])[:, None]
            predicted = model(generator_inputs(target, reference, config.mask_top), audio)
            weights = lower_face_weights(masks[s:s + batch], config.mask_top, JUDGED_BY.mouth_weight)
            loss, _ = reconstruction_loss(predicted, target, weights, JUDGED_BY.ssim_weight)
            total += float(loss) * len(target)
    return total / len(frames)


def tune_trial(params: dict, clip: AvatarClip, train_frames: range, model: LipSyncConfig, train: TrainConfig,
               syncnet: SyncNet | None) -> None:
    """One trial (a Ray Tune function trainable): train with `params`, report the validation loss each epoch."""
    from ray import tune

    fit_frames, val_frames = tuning_split(train_frames)
    frames = np.array([i for i in val_frames if clip.has_face[i]], np.int64)
    references = np.random.default_rng(0).choice([i for i in fit_frames if clip.has_face[i]], len(frames))

    def on_epoch(epoch: int, metrics: dict, snapshot) -> None:
        generator = load_generator(snapshot()["model"], model)
        tune.report({"val_loss": validation_loss(generator, clip, frames, references), "loss": metrics["loss"],
                     "epoch": epoch})

    fit_generator(clip, fit_frames, model, replace(train, **params), on_epoch=on_epoch, syncnet=syncnet)


def tune_training(clip: AvatarClip, train_frames: range, model: LipSyncConfig, train: TrainConfig, trials: int,
                  storage: str | None = None, name: str | None = None,
                  syncnet: SyncNet | None = None) -> tuple[TrainConfig, dict[str, float]]:
    """Search `trials` draws of search_space() under ASHA on the connected Ray cluster; returns `train` with the best
    trial's values and the search's metrics. The search's records go to `storage` (a temporary folder if None)."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    if trials < 2:
        raise ValueError("tuning needs at least 2 trials")
    if len(tuning_split(train_frames)[1]) < 8:
        raise ValueError("too few training frames to set some aside for tuning")
    temporary = storage is None
    root = tempfile.mkdtemp(prefix="avatar-tune-") if temporary else storage
    try:
        trainable = tune.with_resources(
            tune.with_parameters(tune_trial, clip=clip, train_frames=train_frames, model=model, train=train,
                                 syncnet=syncnet),
            {"cpu": 0 if train.use_gpu else 1, "gpu": 1 if train.use_gpu else 0})
        scheduler = ASHAScheduler(max_t=train.epochs, grace_period=max(1, train.epochs // 4), reduction_factor=2)
        tuner = tune.Tuner(trainable, param_space=search_space(),
                           tune_config=tune.TuneConfig(metric="val_loss", mode="min", num_samples=trials,
                                                       scheduler=scheduler),
                           run_config=tune.RunConfig(name=name or f"avatar-tune-{uuid.uuid4().hex[:12]}",
                                                     storage_path=str(root), verbose=0))
        results = tuner.fit()
        best = results.get_best_result()
        epochs = [int(r.metrics.get("epoch", 0)) for r in results if r.metrics]
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    if best.metrics is None or "val_loss" not in best.metrics:
        raise RuntimeError(f"no tuning trial finished an epoch: {best.error}")
    chosen = {k: float(best.config[k]) for k in TUNED}
    metrics = {"tune_trials": float(trials), "tune_best_val_loss": float(best.metrics["val_loss"]),
               "tune_stopped_early": float(sum(e < train.epochs for e in epochs)),
               **{f"tune_{k}": v for k, v in chosen.items()}}
    return replace(train, **chosen).validate(), metrics
