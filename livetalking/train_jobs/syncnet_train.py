"""The avatar's SyncNet expert, trained from its own take: five mouth frames against an audio window.

A window is five consecutive frames with a face, centred on frame i, and frame i's audio window
(media/lip_audio: 0.2 s starting 60 ms before the frame, the span of the five frames). Each epoch
shows every training window twice: with its own audio (in sync) and with the audio of a window at
least `min_offset` frames away (out of sync). Colour gain on the crops and noise on the audio keep it
from learning the recording chain. No pretrained SyncNet installs here, so on a short take this
expert is a weak judge: the evaluation's `real_sync_preference` (own audio against offset audio, on
real frames it never saw) says how far to trust the confidence it gives the generator and the evaluation.
"""

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from livetalking.nets.syncnet import FRAMES, SyncNet, SyncNetConfig, mouth_stack, sync_loss, sync_probability
from livetalking.train_jobs.avatar_data import AvatarClip

HALF = FRAMES // 2


@dataclass(frozen=True)
class SyncTrainConfig:
    epochs: int = 10
    batch_size: int = 16
    lr: float = 5e-4
    min_offset: int = 5
    jitter: float = 0.08
    audio_noise: float = 0.1
    seed: int = 0

    def validate(self) -> "SyncTrainConfig":
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or self.min_offset < 1:
            raise ValueError("epochs, lr and min_offset must be positive, batch_size at least 2")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def window_centres(has_face: np.ndarray, frames: range) -> np.ndarray:
    """Frames i of `frames` whose window i-2..i+2 lies inside `frames` with a face in every frame."""
    face = np.zeros(len(has_face) + 2 * HALF, bool)
    face[HALF:HALF + len(has_face)] = has_face
    inside = np.zeros_like(face)
    inside[HALF + frames.start:HALF + frames.stop] = True
    ok = face & inside
    return np.array([i for i in frames if ok[i:i + FRAMES].all()], np.int64)


def crop_windows(crops: np.ndarray, centres: np.ndarray) -> torch.Tensor:
    """(n, 5, 3, S, S) float crops in 0..1 of the windows around `centres` (indices into `crops`)."""
    stacks = crops[centres[:, None] + np.arange(-HALF, HALF + 1)]                  # (n, 5, S, S, 3)
    return torch.from_numpy(stacks).permute(0, 1, 4, 2, 3).float() / 255


def offset_partners(centres: np.ndarray, min_offset: int, rng: np.random.Generator) -> np.ndarray:
    """For each centre, another centre at least `min_offset` frames away (its audio is out of sync)."""
    partners = rng.choice(centres, len(centres))
    close = np.abs(partners - centres) < min_offset
    while close.any():
        partners[close] = rng.choice(centres, int(close.sum()))
        close = np.abs(partners - centres) < min_offset
    return partners


def fit_syncnet(clip: AvatarClip, train_frames: range, net_config: SyncNetConfig,
                config: SyncTrainConfig = SyncTrainConfig(),
                device: torch.device | None = None) -> tuple[dict, dict[str, float]]:
    """Train a SyncNet on the windows of `train_frames`; returns (state on the CPU, metrics of the last epoch)."""
    config.validate()
    device = device or torch.device("cpu")
    centres = window_centres(clip.has_face, train_frames)
    if len(centres) < 2 * config.min_offset + config.batch_size:
        raise ValueError(f"only {len(centres)} five-frame windows with a face; too few to train a SyncNet")
    torch.manual_seed(config.seed)
    net = SyncNet(net_config).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    began, metrics = time.perf_counter(), {}
    for epoch in range(config.epochs):
        rng = np.random.default_rng([config.seed, epoch])
        net.train()
        order = rng.permutation(centres)
        steps = max(1, len(order) // config.batch_size)
        loss_sum, correct = 0.0, 0
        for b in range(steps):
            batch = order[b * config.batch_size:(b + 1) * config.batch_size]
            partners = offset_partners(batch, config.min_offset, rng)
            gain = torch.from_numpy(rng.uniform(1 - config.jitter, 1 + config.jitter, (len(batch), 1, 3, 1, 1)))
            mouths = mouth_stack((crop_windows(clip.crops, batch) * gain.float()).clamp(0, 1), net_config.size)
            audio = torch.from_numpy(np.concatenate([clip.audio[batch], clip.audio[partners]]))[:, None]
            audio = audio + config.audio_noise * audio.std() * torch.randn_like(audio)
            labels = torch.cat([torch.ones(len(batch)), torch.zeros(len(batch))]).to(device)
            face, sound = net(mouths.repeat(2, 1, 1, 1).to(device), audio.to(device))
            loss = sync_loss(face, sound, labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            loss_sum += float(loss.detach())
            with torch.no_grad():
                p = sync_probability(face, sound)
                correct += int((p[:len(batch)] > p[len(batch):]).sum())
        metrics = {"syncnet_loss": loss_sum / steps, "syncnet_train_accuracy": correct / (steps * config.batch_size),
                   "syncnet_epochs": float(epoch + 1), "syncnet_seconds": time.perf_counter() - began,
                   "syncnet_windows": float(len(centres))}
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}, metrics


def sync_scores(net: SyncNet, windows: torch.Tensor, audio: np.ndarray, batch: int = 64) -> np.ndarray:
    """(n,) probability that each window of crops (n, 5, 3, S, S) in 0..1 is in sync with its audio (n, T, D)."""
    net.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(windows), batch):
            mouths = mouth_stack(windows[s:s + batch], net.config.size)
            face, sound = net(mouths, torch.from_numpy(audio[s:s + batch])[:, None])
            out.append(sync_probability(face, sound).numpy())
    return np.concatenate(out) if out else np.zeros(0)

