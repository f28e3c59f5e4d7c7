"""train_avatar: prepared takes in, a registered (and, if it passes the gate, active) lip-sync version out.

Steps: each take's first 80 % trains, its last 20 % is held out -> the SyncNet expert trains on the training
part (in this process: it is small) -> the generator trains (in this process or on Ray Train; from the active
version's weights when it has the same shape: an incremental update; with the expert's sync loss when the
loop's sync_weight is set) -> evaluation on the held-out frames against the replay and other-audio baselines
-> export (.pt, TorchScript, ONNX, Triton), each checked against PyTorch -> registry -> gate: promote, or keep
the active version and flag the avatar for review. `reevaluate` judges stored weights again the same way (the
models:evaluate task).
"""

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from livetalking.errors import InvalidInput
from livetalking.nets.lipsync import LipSyncConfig, LipSyncGenerator
from livetalking.nets.syncnet import SyncNet, SyncNetConfig, load_syncnet
from livetalking.platform.store import ArtifactStore
from livetalking.platform.tables import ModelVersion
from livetalking.registry.publish import PublishedVersion, PublishTarget, next_version, register_version, upload_files
from livetalking.settings import Settings
from livetalking.train_jobs.avatar_data import AvatarClip, concat_clips, split_held_out
from livetalking.train_jobs.avatar_eval import GateThresholds, evaluate, gate
from livetalking.train_jobs.avatar_export import (FILES, TRITON_FILES, StoredModel, load_generator, read_model_file,
                                                  write_files)
from livetalking.train_jobs.avatar_job import RayPlacement, train_in_process, train_on_ray
from livetalking.train_jobs.avatar_train import PRESETS, TrainConfig, device_for
from livetalking.train_jobs.avatar_tune import tune_training
from livetalking.train_jobs.syncnet_train import SyncTrainConfig, fit_syncnet

Progress = Callable[[float, str], None]
MIN_TRAIN_FRAMES = 64


@dataclass(frozen=True)
class TrainPlan:
    """What to train and where: the model's shape, the loop's settings, and the Ray placement (None: here)."""

    model: LipSyncConfig
    train: TrainConfig
    ray: RayPlacement | None = None
    syncnet: SyncTrainConfig = SyncTrainConfig()
    tune_trials: int = 0


def plan_for(settings: Settings, preset: str | None = None, epochs: int | None = None,
             ray: RayPlacement | None = None, tune_trials: int = 0) -> TrainPlan:
    """The preset's model and loop, with the settings' GPU choice and epoch override applied; `tune_trials`
    (at least 2 when set) runs a Ray Tune search first, which needs the Ray placement."""
    name = preset or settings.avatar_preset
    if name not in PRESETS:
        raise InvalidInput(f"unknown training preset {name!r}; known: {', '.join(sorted(PRESETS))}",
                           code="avatar.unknown_preset")
    model, train = PRESETS[name]
    model = replace(model, audio=settings.avatar_audio_feature).validate()
    train = replace(train, use_gpu=settings.avatar_use_gpu, epochs=epochs or settings.avatar_epochs or train.epochs)
    if tune_trials == 1:
        raise InvalidInput("tuning compares trials: ask for at least 2", code="avatar.tune_trials")
    if tune_trials and ray is None:
        raise InvalidInput("tuning runs its trials on Ray, and this training runs in a local thread",
                           code="avatar.tune_needs_ray")
    return TrainPlan(model, train.validate(), ray, tune_trials=tune_trials)


def split_takes(clips: list[AvatarClip]) -> tuple[AvatarClip, range, range]:
    """One clip of every take's training part followed by every take's held-out tail, and the two ranges."""
    parts = [(c, *split_held_out(c.frames)) for c in clips]
    training = [c.slice(t.start, t.stop) for c, t, _ in parts]
    held = [c.slice(h.start, h.stop) for c, _, h in parts]
    combined = concat_clips(training + held)
    cut = sum(c.frames for c in training)
    if int(combined.has_face[:cut].sum()) < MIN_TRAIN_FRAMES:
        raise InvalidInput(f"the takes give {int(combined.has_face[:cut].sum())} training frames with a face; at "
                           f"least {MIN_TRAIN_FRAMES} are needed (record a longer take)",
                           code="avatar.too_short")
    return combined, range(0, cut), range(cut, combined.frames)


def stored_weights(store: ArtifactStore, version: ModelVersion) -> StoredModel:
    """A registered version's model.pt, checked against its recorded sha256."""
    pt = version.artifacts["pt"]
    with store.open_local(pt["key"], sha256=pt["sha256"]) as path:
        return read_model_file(path)


def _parent_state(target: PublishTarget, model: LipSyncConfig):
    active = target.active_version()
    if active is None or active.config.get("model") != model.as_dict():
        return None, None
    return active, stored_weights(target.store, active).state


def train_expert(clip: AvatarClip, train_frames: range, model: LipSyncConfig, config: SyncTrainConfig,
                 use_gpu: bool = False) -> tuple[SyncNet, dict[str, float]]:
    """The avatar's SyncNet expert, trained on the training frames, for the model's audio feature."""
    net_config = SyncNetConfig(audio=model.audio)
    state, metrics = fit_syncnet(clip, train_frames, net_config, config, device_for(use_gpu))
    return load_syncnet(state, net_config), metrics


def judge(model: LipSyncGenerator, clip: AvatarClip, train_frames: range, held_out: range, settings: Settings,
          syncnet: SyncNet, progress: Callable[[str], None] = lambda m: None) -> tuple[dict[str, float], list[str]]:
    """The model's metrics on the held-out frames and the settings' gate's failures (empty: it passes)."""
    metrics = evaluate(model, clip, train_frames, held_out, settings.models_root, progress, syncnet=syncnet)
    return metrics, gate(metrics, GateThresholds.from_settings(settings))


def reevaluate(clips: list[AvatarClip], stored: StoredModel, settings: Settings,
               progress: Callable[[str], None] = lambda m: None) -> tuple[dict[str, float], list[str]]:
    """Judge stored weights again on the held-out tails of the takes, split as training split them, with the
    version's SyncNet expert (one is trained on the training part for versions made before they had one)."""
    clip, train_frames, held_out = split_takes(clips)
    syncnet = stored.syncnet
    if syncnet is None:
        progress("training a SyncNet expert for this version")
        syncnet, _ = train_expert(clip, train_frames, stored.config, SyncTrainConfig())
    return judge(load_generator(stored.state, stored.config), clip, train_frames, held_out, settings, syncnet,
                 progress)


def publish_version(target: PublishTarget, state: dict, model: LipSyncConfig, train: dict, config: dict,
                    metrics: dict, failures: list[str], parent_id: uuid.UUID | None = None,
                    syncnet: SyncNet | None = None) -> PublishedVersion:
    """Export the weights (each export checked; the SyncNet expert goes into model.pt), register them as the
    target's next version and apply the gate's verdict (`failures`)."""
    version = next_version(target)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        metrics = {**metrics, **write_files(folder, state, model, train, {"metrics": metrics}, syncnet)}
        files = upload_files(target, folder, version, FILES + TRITON_FILES)
    card = dict(name=target.model_name, version=version, backbone=f"lipsync-unet-{model.size}",
                input_shape=[-1, 6, model.size, model.size], parent_version_id=parent_id)
    return register_version(target, card, {"model": model.as_dict(), "train": train, **config}, metrics, files,
                            {"pt": "model.pt", "torchscript": "model.torchscript.pt", "onnx": "model.onnx"},
                            ("avatar.json",) + TRITON_FILES, failures)


def train_avatar(clips: list[AvatarClip], *, plan: TrainPlan, target: PublishTarget, settings: Settings,
                 progress: Progress = lambda f, m: None, resume: dict | None = None,
                 save: Callable[[dict], None] = lambda snapshot: None) -> PublishedVersion:
    """Train, evaluate, export, register and gate one version of the target avatar (see the module text)."""
    clip, train_frames, held_out = split_takes(clips)
    parent, init_state = _parent_state(target, plan.model)

    def on_epoch(epoch: int, metrics: dict) -> None:
        progress(0.05 + 0.8 * epoch / plan.train.epochs,
                 f"epoch {epoch}/{plan.train.epochs}: loss {metrics['loss']:.4f}, "
                 f"lip fit {metrics['lips_val_corr']:.2f}, {metrics['samples_per_s']:.1f} samples/s, "
                 f"ETA {metrics['eta_s'] / 60:.1f} min")

    progress(0.02, "training the SyncNet expert")
    syncnet, sync_metrics = train_expert(clip, train_frames, plan.model, plan.syncnet, plan.train.use_gpu)
    train, tune_metrics = plan.train, {}
    if plan.tune_trials:
        progress(0.04, f"tuning: {plan.tune_trials} trials under ASHA")
        train, tune_metrics = tune_training(clip, train_frames, plan.model, plan.train, plan.tune_trials,
                                            plan.ray.storage, f"{plan.ray.run_name}-tune" if plan.ray.run_name
                                            else None, syncnet)
    progress(0.05, "training the lip-sync model" + (" from the active version" if parent else ""))
    if plan.ray is not None:
        state, train_metrics = train_on_ray(clip, train_frames, plan.model, train, init_state, plan.ray, syncnet)
    else:
        state, train_metrics = train_in_process(clip, train_frames, plan.model, train, init_state, resume, save,
                                                on_epoch, syncnet)
    progress(0.86, "evaluating on the held-out frames")
    metrics, failures = judge(load_generator(state, plan.model), clip, train_frames, held_out, settings, syncnet)
    metrics.update({f"train_{k}": float(v) for k, v in {**train_metrics, **sync_metrics, **tune_metrics}.items()})
    config = {"fps": clip.fps, "takes": len(clips), "train_frames": len(train_frames),
              "held_out_frames": len(held_out)}
    progress(0.92, "exporting and registering")
    return publish_version(target, state, plan.model, train.as_dict(), config, metrics, failures,
                           parent.id if parent else None, syncnet)
