"""Training the person-specific lip-sync generator on the first 80 % of a prepared take.

First the lip head is fitted (ridge regression from the audio window to the 40 lip landmarks, see
lip_model). Then the U-Net: one epoch = every training frame once as a target, each with a random
reference frame of the same take (the mouth's texture comes from the reference, its shape from the
lip maps, never a copy of a neighbour), drawn to the target's real lip landmarks with a little
jitter (at inference the lip head's prediction takes their place). Colour jitter applies one random
gain per channel to target and reference alike; a small random shift moves both. Loss: weighted L1
+ SSIM on the lower face (see avatar_losses). Adam with a cosine decay; the state after the last
epoch is kept; frames without a face are skipped. Batch 4 by default: at a fixed epoch count, 4x
the steps of batch 16 learned the mouth much sooner (held-out mouth-opening correlation 0.45
against 0.19 after 8 epochs at 96 px).

Against what a small take invites: half the targets are drawn over the upper face of another frame
(`pose_swap`, with no loss above the mask line), so the mouth cannot be read from the eyes and brows
(without it, a model driven by unrelated audio scored 0.51 mouth-opening correlation against 0.63
with the real audio); the audio windows of the bottleneck's audio code get a random level, noise
and a frequency mask, and its encoder weight decay. Runs in this process or inside a Ray Train
worker (see avatar_job).
"""

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from livetalking.media.audio_features import N_MELS
from livetalking.media.face_align import mouth_mask
from livetalking.media.face_regions import LIPS
from livetalking.nets.lipsync import (LIP_ORIGIN, LIP_SCALE, PREVIEW_160, QUALITY_256, LipSyncConfig, LipSyncGenerator,
                                      generator_inputs)
from livetalking.nets.syncnet import FRAMES, SyncNet, mouth_stack, sync_loss
from livetalking.train_jobs.avatar_data import AvatarClip
from livetalking.train_jobs.avatar_losses import Adversary, lower_face_weights, reconstruction_loss
from livetalking.train_jobs.lip_model import fit_lips
from livetalking.train_jobs.syncnet_train import window_centres


@dataclass(frozen=True)
class TrainConfig:
    """How to train; stored with the version next to the model's own config."""

    epochs: int = 30
    batch_size: int = 4
    lr: float = 1e-3
    min_lr_share: float = 0.05
    mouth_weight: float = 3.0
    ssim_weight: float = 0.5
    lips_jitter: float = 0.05
    pose_swap: float = 0.5
    audio_gain: float = 0.3
    audio_noise: float = 0.1
    audio_mask_bins: int = 10
    audio_weight_decay: float = 1e-3
    jitter: float = 0.08
    shift_px: int = 2
    sync_weight: float = 0.0
    sync_start: float = 0.5
    sync_windows: int = 1
    adv_weight: float = 0.0
    seed: int = 0
    max_seconds: float | None = None
    use_gpu: bool = False

    def validate(self) -> "TrainConfig":
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs, batch_size and lr must be positive")
        if not 0 <= self.min_lr_share <= 1 or self.jitter < 0 or self.shift_px < 0:
            raise ValueError("min_lr_share in 0..1; jitter and shift_px non-negative")
        if self.sync_weight < 0 or not 0 <= self.sync_start <= 1 or self.sync_windows < 1 or self.adv_weight < 0:
            raise ValueError("sync_weight and adv_weight non-negative, sync_start in 0..1, sync_windows at least 1")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


# The model and loop of each training preset: `preview` for CPUs (a 20 s take in minutes), `quality` for GPUs.
PRESETS = {"preview": (PREVIEW_160, TrainConfig(epochs=30, batch_size=4)),
           "quality": (QUALITY_256, TrainConfig(epochs=200, batch_size=32))}

OnEpoch = Callable[[int, dict, Callable[[], dict]], None]


def device_for(use_gpu: bool) -> torch.device:
    return torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")


def learning_rate(config: TrainConfig, step: int, total: int) -> float:
    """Cosine decay from lr to min_lr_share x lr over the run."""
    floor = config.lr * config.min_lr_share
    return floor + (config.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))


def mouth_masks(clip: AvatarClip, indices: np.ndarray, size: int) -> np.ndarray:
    """(n, S, S) float32 soft mouth masks of the given frames in crop space."""
    return np.stack([mouth_mask(clip.landmarks[i], clip.transforms[i].astype(np.float64), size) for i in indices])


def lip_targets(clip: AvatarClip, indices: np.ndarray, size: int) -> np.ndarray:
    """(n, 40, 2) float32: the real lip landmarks in crop space, as offsets from the template mouth in units of
    a tenth of the crop side (what the generator's lip head learns from the audio)."""
    lips = np.stack([clip.crop_landmarks(int(i))[list(LIPS), :2] for i in indices])
    return ((lips / size - np.array(LIP_ORIGIN)) * LIP_SCALE).astype(np.float32)


def augment_audio(windows: np.ndarray, feature: str, config: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """(B, T, D) audio windows, disturbed as another recording chain (often another voice) would: log-mel windows
    get a random level (+-audio_gain in log10, +-6 dB by default), noise of audio_noise, and one random band of up
    to audio_mask_bins mel bins set to the window's floor (SpecAugment's frequency mask); windows with whisper
    states (which do not follow the level) get noise of audio_noise x their spread and, on average, the mel mask's
    share of features zeroed (audio_mask_bins / 2 of N_MELS)."""
    if feature != "mel":
        spread = windows.std(axis=(1, 2), keepdims=True)
        out = windows + rng.normal(0, 1, windows.shape).astype(np.float32) * config.audio_noise * spread
        dropped = rng.random((len(windows), 1, windows.shape[2])) < config.audio_mask_bins / 2 / N_MELS
        return np.where(dropped, np.float32(0), out).astype(np.float32)
    out = windows + rng.uniform(-config.audio_gain, config.audio_gain, (len(windows), 1, 1)).astype(np.float32)
    out = out + rng.normal(0, config.audio_noise, out.shape).astype(np.float32)
    for row in out:
        width = int(rng.integers(0, config.audio_mask_bins + 1))
        start = int(rng.integers(0, row.shape[1] - width + 1))
        row[:, start:start + width] = row.min()
    return out


def _shift(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3)) if dx or dy else images


def make_batch(clip: AvatarClip, masks: dict[int, np.ndarray], lips: dict[int, np.ndarray], targets: np.ndarray,
               references: np.ndarray, config: TrainConfig, rng: np.random.Generator, device: torch.device):
    """target, reference (B, 3, S, S), audio (B, 1, T, D), mouth mask (B, 1, S, S), lip targets (B, 40, 2)."""
    target = torch.from_numpy(clip.crops[targets]).permute(0, 3, 1, 2).float() / 255
    reference = torch.from_numpy(clip.crops[references]).permute(0, 3, 1, 2).float() / 255
    mouth = torch.from_numpy(np.stack([masks[int(i)] for i in targets]))[:, None]
    if config.jitter:
        gain = torch.from_numpy(rng.uniform(1 - config.jitter, 1 + config.jitter, (len(targets), 3, 1, 1))).float()
        target, reference = (target * gain).clamp(0, 1), (reference * gain).clamp(0, 1)
    if config.shift_px:
        dx, dy = (int(v) for v in rng.integers(-config.shift_px, config.shift_px + 1, 2))
        target, reference, mouth = _shift(target, dx, dy), _shift(reference, dx, dy), _shift(mouth, dx, dy)
    audio = torch.from_numpy(augment_audio(clip.audio[targets], clip.feature, config, rng))[:, None]
    lip = torch.from_numpy(np.stack([lips[int(i)] for i in targets]))
    return target.to(device), reference.to(device), audio.to(device), mouth.to(device), lip.to(device)


def sync_inputs(clip: AvatarClip, masks: dict[int, np.ndarray], lips: dict[int, np.ndarray], windows: np.ndarray,
                usable: np.ndarray, model_config: LipSyncConfig, config: TrainConfig, rng: np.random.Generator,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Generator inputs (W x 5, 6, S, S) and audio (W x 5, 1, T, D) of the five frames around each window centre,
    consecutive per window, each with a random reference frame."""
    frames = (windows[:, None] + np.arange(-(FRAMES // 2), FRAMES // 2 + 1)).reshape(-1)
    target, reference, audio, _, _ = make_batch(clip, masks, lips, frames, rng.choice(usable, len(frames)), config,
                                                rng, device)
    return generator_inputs(target, reference, model_config.mask_top), audio


def sync_step(syncnet: SyncNet, drawn: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
    """The SyncNet's loss against "in sync" for generated windows (W x 5, 3, S, S) and each centre's audio
    (W, 1, T, D); the SyncNet is frozen, so its gradient reaches only the generator."""
    mouths = mouth_stack(drawn.reshape(-1, FRAMES, *drawn.shape[1:]), syncnet.config.size)
    face, sound = syncnet(mouths, audio)
    return sync_loss(face, sound, torch.ones(len(face), device=face.device))


def fit_generator(clip: AvatarClip, train_frames: range, model_config: LipSyncConfig, config: TrainConfig,
                  init_state: dict | None = None, on_epoch: OnEpoch = lambda epoch, metrics, snapshot: None,
                  resume: dict | None = None, rank: int = 0, world: int = 1, wrap: Callable = lambda m: m,
                  device: torch.device | None = None, syncnet: SyncNet | None = None) -> tuple[dict, dict]:
    """Train a generator on the clip's `train_frames`; returns (state_dict on the CPU, metrics of the last epoch).

    `init_state` starts from earlier weights (an incremental update); `resume` (a snapshot that on_epoch
    was given) continues an interrupted run after its epoch. Under DDP each of `world` workers takes
    every world-th target (`rank` first) and `wrap` is ray.train.torch.prepare_model. With a trained
    `syncnet` and `config.sync_weight`, from `sync_start` of the epochs on, each step also draws
    `sync_windows` five-frame windows with the mouth drawn to the lip head's prediction (as at inference) and
    adds sync_weight x the SyncNet's loss against "in sync" (see sync_step).
    """
    config.validate()
    device = device or device_for(config.use_gpu)
    usable = np.array([i for i in train_frames if clip.has_face[i]], np.int64)
    centres = window_centres(clip.has_face, train_frames)
    if syncnet is not None:
        syncnet = syncnet.to(device).eval().requires_grad_(False)
    if len(usable) < 2 * config.batch_size:
        raise ValueError(f"only {len(usable)} training frames have a face; at least {2 * config.batch_size} needed")
    masks = dict(zip(usable.tolist(), mouth_masks(clip, usable, model_config.size), strict=True))
    lips = dict(zip(usable.tolist(), lip_targets(clip, usable, model_config.size), strict=True))
    lip_fit = fit_lips(clip.audio[usable], np.stack([lips[int(i)] for i in usable]))
    torch.manual_seed(config.seed)   # the initial weights: a run is reproducible whatever ran before it in the process
    model = LipSyncGenerator(model_config)
    start_epoch = 0
    if resume is not None:
        model.load_state_dict(resume["model"])
        start_epoch = int(resume["epoch"])
    elif init_state is not None:
        model.load_state_dict(init_state)
    for name, value in lip_fit.state().items():
        getattr(model.lips, name).copy_(torch.from_numpy(value))
    model = wrap(model.to(device))
    core = getattr(model, "module", model)
    audio_params = {id(p) for p in core.audio.parameters()}
    optimiser = torch.optim.Adam([
        {"params": [p for p in model.parameters() if id(p) not in audio_params]},
        {"params": [p for p in model.parameters() if id(p) in audio_params],
         "weight_decay": config.audio_weight_decay}], lr=config.lr)
    adversary = Adversary(model_config.mask_top, config.lr, device, wrap) if config.adv_weight > 0 else None
    if resume is not None:
        optimiser.load_state_dict(resume["optimiser"])
        if adversary is not None and "adversary" in resume:
            adversary.load(resume["adversary"])
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    mine = usable[rank::world]
    steps_per_epoch = max(1, len(mine) // config.batch_size)
    total = steps_per_epoch * config.epochs
    began, metrics = time.perf_counter(), dict(resume["metrics"]) if resume is not None else {}
    for epoch in range(start_epoch, config.epochs):
        torch.manual_seed(config.seed + 1000 * epoch + rank)
        rng = np.random.default_rng([config.seed, epoch, rank])
        model.train()
        order = rng.permutation(mine)
        sums = {"loss": 0.0, "l1": 0.0, "ssim_loss": 0.0, "sync_loss": 0.0, "adv_loss": 0.0, "disc_loss": 0.0}
        syncing = syncnet is not None and config.sync_weight > 0 and epoch >= config.sync_start * config.epochs
        for b in range(steps_per_epoch):
            targets = order[b * config.batch_size:(b + 1) * config.batch_size]
            references = rng.choice(usable, len(targets))
            swapped = rng.random(len(targets)) < config.pose_swap
            poses = np.where(swapped, rng.choice(usable, len(targets)), targets)
            target, reference, audio, mouth, lip = make_batch(clip, masks, lips, targets, references, config, rng,
                                                              device)
            pose = target
            if swapped.any():
                others = make_batch(clip, masks, lips, poses, references, config, rng, device)[0]
                pose = torch.where(torch.from_numpy(swapped).to(device)[:, None, None, None], others, target)
            for group in optimiser.param_groups:
                group["lr"] = learning_rate(config, epoch * steps_per_epoch + b, total)
            faces = generator_inputs(pose, reference, model_config.mask_top)
            teacher = lip + config.lips_jitter * torch.randn_like(lip)
            if syncing:
                windows = rng.choice(centres, config.sync_windows)
                sync_faces, sync_audio = sync_inputs(clip, masks, lips, windows, usable, model_config, config, rng,
                                                     device)
                faces, audio = torch.cat([faces, sync_faces]), torch.cat([audio, sync_audio])
                teacher = torch.cat([teacher, core.lips(sync_audio)])
            with autocast:
                drawn = model(faces, audio, lips=teacher)
            predicted = drawn[:len(targets)]
            weights = lower_face_weights(mouth, model_config.mask_top, config.mouth_weight,
                                         torch.from_numpy(swapped).to(device))
            loss, parts = reconstruction_loss(predicted.float(), target, weights, config.ssim_weight)
            if syncing:
                synced = sync_step(syncnet, drawn[len(targets):].float(), audio[len(targets) + FRAMES // 2::FRAMES])
                loss = loss + config.sync_weight * synced
                parts["sync_loss"] = float(synced.detach())
            if adversary is not None:
                fooled = adversary.generator_loss(predicted.float())
                loss = loss + config.adv_weight * fooled
                parts["adv_loss"] = float(fooled.detach())
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if adversary is not None:
                parts["disc_loss"] = adversary.step(predicted.float(), target)
            sums["loss"] += float(loss.detach())
            for key, value in parts.items():
                sums[key] += value
        elapsed = time.perf_counter() - began
        done = epoch + 1 - start_epoch
        metrics = {k: v / steps_per_epoch for k, v in sums.items()}
        metrics.update(epoch=float(epoch + 1), epochs=float(config.epochs), seconds=elapsed,
                       samples_per_s=done * steps_per_epoch * config.batch_size * world / max(elapsed, 1e-9),
                       eta_s=elapsed / done * (config.epochs - epoch - 1), train_frames=float(len(usable)),
                       lips_val_corr=lip_fit.validation_corr, lips_strength=lip_fit.strength)

        def snapshot(epoch=epoch, metrics=metrics) -> dict:
            return {"model": _cpu_state(model), "optimiser": optimiser.state_dict(), "epoch": epoch + 1,
                    **({"adversary": adversary.state()} if adversary is not None else {}),
                    "metrics": metrics}

        on_epoch(epoch + 1, metrics, snapshot)
        if config.max_seconds is not None and elapsed > config.max_seconds:
            break
    return _cpu_state(model), metrics


def _cpu_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in getattr(model, "module", model).state_dict().items()}
