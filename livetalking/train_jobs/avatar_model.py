"""train_avatar: prepared takes in, a registered (and, if it passes the gate, active) lip-sync version out.

Steps: each take's first 80 % trains, its last 20 % is held out -> the generator trains (in this
process or on Ray Train; from the active version's weights when it has the same shape: an
incremental update) -> evaluation on the held-out frames against the replay and other-audio
baselines -> export (.pt, TorchScript, ONNX, Triton), each checked against PyTorch -> registry ->
gate: promote, or keep the active version and flag the avatar for review.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from livetalking.errors import InvalidInput
from livetalking.nets.lipsync import PREVIEW_160, QUALITY_256, LipSyncConfig
from livetalking.registry.publish import PublishedVersion, PublishTarget, next_version, register_version, upload_files
from livetalking.settings import Settings
from livetalking.train_jobs.avatar_data import AvatarClip, concat_clips, split_held_out
from livetalking.train_jobs.avatar_eval import GateThresholds, evaluate, gate
from livetalking.train_jobs.avatar_export import FILES, TRITON_FILES, load_generator, read_model_file, write_files
from livetalking.train_jobs.avatar_job import RayPlacement, train_in_process, train_on_ray
from livetalking.train_jobs.avatar_train import TrainConfig

Progress = Callable[[float, str], None]
PRESETS = {"preview": (PREVIEW_160, TrainConfig(epochs=30, batch_size=4)),
           "quality": (QUALITY_256, TrainConfig(epochs=200, batch_size=32))}
MIN_TRAIN_FRAMES = 64


@dataclass(frozen=True)
class TrainPlan:
    """What to train and where: the model's shape, the loop's settings, and the Ray placement (None: here)."""

    model: LipSyncConfig
    train: TrainConfig
    ray: RayPlacement | None = None


def plan_for(settings: Settings, preset: str | None = None, epochs: int | None = None,
             ray: RayPlacement | None = None) -> TrainPlan:
    """The preset's model and loop, with the settings' GPU choice and epoch override applied."""
    name = preset or settings.avatar_preset
    if name not in PRESETS:
        raise InvalidInput(f"unknown training preset {name!r}; known: {', '.join(sorted(PRESETS))}",
                           code="avatar.unknown_preset")
    model, train = PRESETS[name]
    train = replace(train, use_gpu=settings.avatar_use_gpu, epochs=epochs or settings.avatar_epochs or train.epochs)
    return TrainPlan(model, train.validate(), ray)


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


def _parent_state(target: PublishTarget, model: LipSyncConfig):
    active = target.active_version()
    if active is None or active.config.get("model") != model.as_dict():
        return None, None
    pt = active.artifacts["pt"]
    with target.store.open_local(pt["key"], sha256=pt["sha256"]) as path:
        state, _ = read_model_file(path)
    return active, state


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

    progress(0.05, "training the lip-sync model" + (" from the active version" if parent else ""))
    if plan.ray is not None:
        state, train_metrics = train_on_ray(clip, train_frames, plan.model, plan.train, init_state, plan.ray)
    else:
        state, train_metrics = train_in_process(clip, train_frames, plan.model, plan.train, init_state, resume, save,
                                                on_epoch)
    progress(0.86, "evaluating on the held-out frames")
    metrics = evaluate(load_generator(state, plan.model), clip, train_frames, held_out, settings.models_root)
    metrics.update({f"train_{k}": float(v) for k, v in train_metrics.items()})
    version = next_version(target)
    config = {"model": plan.model.as_dict(), "train": plan.train.as_dict(), "fps": clip.fps,
              "takes": len(clips), "train_frames": len(train_frames), "held_out_frames": len(held_out)}
    progress(0.92, "exporting")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        metrics.update(write_files(folder, state, plan.model, plan.train.as_dict(), {"metrics": metrics}))
        files = upload_files(target, folder, version, FILES + TRITON_FILES)
    card = dict(name=target.model_name, version=version, backbone=f"lipsync-unet-{plan.model.size}",
                input_shape=[-1, 6, plan.model.size, plan.model.size], parent_version_id=parent.id if parent else None)
    failures = gate(metrics, GateThresholds(settings.avatar_gate_min_mouth_corr, settings.avatar_gate_min_corr_margin,
                                            settings.avatar_gate_max_landmark_ratio))
    progress(0.97, "registering")
    return register_version(target, card, config, metrics, files,
                            {"pt": "model.pt", "torchscript": "model.torchscript.pt", "onnx": "model.onnx"},
                            ("avatar.json",) + TRITON_FILES, failures)
