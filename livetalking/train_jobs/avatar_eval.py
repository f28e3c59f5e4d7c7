"""Evaluate a lip-sync generator on the held-out tail of its take, driven by that tail's real audio.

The judge is independent of the model: MediaPipe's face mesh (the one preprocessing tracks with)
reads the mouth of every generated and every real crop the same way. It sees each lower face below
one fixed upper face (of a training frame), inside that frame's region: the mesh also reads the
mouth from the rest of the face, and with the real upper face in view it scored a model driven by
unrelated audio 0.41 where the real audio gave 0.40. Each frame is generated from the real frame
with its lower face masked and a reference frame from the training part (never the frame itself,
whose mouth would leak the answer). Measured (lower is better for distances, flicker and silent motion):
- mouth_open_corr: Pearson correlation of mouth opening (inner-lip gap over eye-corner distance)
  with the real video's, frame by frame;
- mouth_landmark_dist: mean distance of the 40 lip landmarks to the real ones, in eye-corner units;
- mouth_psnr, mouth_ssim: of the lower face against the real crop;
- sync_offset_frames: |lag of the best correlation of mouth opening with the speech envelope,
  generated minus real| (0 = as in sync as the real video);
- flicker: mean frame-to-frame change of the lower face over the real video's;
- silent_motion: standard deviation of mouth opening in silent frames over the real video's;
- sharpness: variance of the Laplacian of the lower face (grey), over the real video's (1 = as sharp; a
  generator that settles on L1's blur scores far below);
- seam_error: mean absolute difference to the real crop (0..1) on the paste boundary's band, after the
  crop is colour-matched and pasted through the feathered mouth mask as a render pastes it;
- sync_confidence, sync_margin, sync_preference: the avatar's SyncNet (train_jobs/syncnet_train, when
  given) on the five-frame windows: mean probability of being in sync with the real audio, its mean
  lead over the same windows heard with audio at least 5 frames away, and how often it leads; the
  `real_*` measures are the real video's (`real_sync_preference` is the expert's accuracy on frames it
  never saw: near 0.5, its other numbers mean little).
Baselines with the same judge: `replay` shows the reference frames themselves (a real but unrelated
mouth), `other_audio` drives the model with audio from elsewhere in the take.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from livetalking.media.audio_features import SILENT_FRAME_DB
from livetalking.media.face_align import colour_match, mouth_mask
from livetalking.media.face_mesh import FaceMesh, FaceRoi, roi_from_landmarks
from livetalking.media.face_regions import LIPS, LOWER_LIP, UPPER_LIP
from livetalking.nets.lipsync import LipSyncGenerator, generator_inputs
from livetalking.nets.syncnet import FRAMES, SyncNet
from livetalking.settings import Settings
from livetalking.train_jobs.avatar_data import AvatarClip
from livetalking.train_jobs.syncnet_train import crop_windows, offset_partners, sync_scores

EYE_CORNERS = (33, 263)
MAX_LAG = 8
# Each measure is averaged over this many draws of the reference frames: one draw of an 8 s take's 40 held-out
# frames let the replay baseline's correlation land anywhere in about +-0.16 by chance.
REFERENCE_DRAWS = 4
GATED = frozenset({"mouth_open_corr", "replay_mouth_open_corr", "other_audio_mouth_open_corr", "mouth_landmark_dist",
                   "replay_mouth_landmark_dist"})


@dataclass(frozen=True)
class MouthTrack:
    """Per frame: mouth opening (eye-corner units) and the 40 lip landmarks (n, 40, 2) in eye-corner units."""

    opening: np.ndarray
    lips: np.ndarray


@dataclass(frozen=True)
class Judge:
    """The face mesh, and the one upper face (with its region) every lower face is read under."""

    mesh: FaceMesh
    upper: np.ndarray
    roi: FaceRoi
    mask_top: float

    def view(self, crop: np.ndarray) -> np.ndarray:
        row = int(round(self.mask_top * crop.shape[0]))
        return np.concatenate([self.upper[:row], crop[row:]])


def measure_mouths(judge: Judge, crops: np.ndarray) -> MouthTrack:
    """Run the face mesh on each crop's lower face (uint8 RGB) and read the mouth."""
    openings, lips = [], []
    for crop in crops:
        points, _ = judge.mesh.landmarks(judge.view(crop), judge.roi)
        eyes = float(np.linalg.norm(points[EYE_CORNERS[0], :2] - points[EYE_CORNERS[1], :2])) or 1.0
        openings.append(float(np.linalg.norm(points[UPPER_LIP, :2] - points[LOWER_LIP, :2])) / eyes)
        lips.append(points[list(LIPS), :2] / eyes)
    return MouthTrack(np.array(openings), np.array(lips))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def best_lag(opening: np.ndarray, envelope: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """The shift (frames; positive = mouth after sound) that best correlates mouth opening with the envelope."""
    scores = {}
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = opening[lag:], envelope[:len(envelope) - lag]
        else:
            a, b = opening[:lag], envelope[-lag:]
        scores[lag] = pearson(a, b)
    return max(scores, key=scores.get)


def lower_face(images: np.ndarray, mask_top: float) -> np.ndarray:
    return images[:, int(round(mask_top * images.shape[1])):].astype(np.float64) / 255.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-10)))


def sharpness(images: np.ndarray, mask_top: float) -> float:
    """Mean variance of the Laplacian of each image's lower face, in grey (uint8 RGB in)."""
    row = int(round(mask_top * images.shape[1]))
    return float(np.mean([cv2.Laplacian(cv2.cvtColor(image[row:], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
                          for image in images]))


def seam_error(crops: np.ndarray, real: np.ndarray, masks: np.ndarray) -> float:
    """Mean |pasted - real| (0..1) on the seam band (0.05 < mask < 0.6) of each crop pasted into its real crop."""
    errors = []
    for crop, base, mask in zip(crops, real, masks, strict=True):
        band = (mask > 0.05) & (mask < 0.6)
        weight = mask[..., None]
        pasted = weight * colour_match(crop, base, mask) + (1 - weight) * base
        errors.append(float(np.abs(pasted - base)[band].mean()) / 255 if band.any() else 0.0)
    return float(np.mean(errors))


@dataclass(frozen=True)
class SyncJudge:
    """The SyncNet expert on the five-frame windows of the evaluated frames: `positions` are the window centres
    (indices into those frames), heard with their own audio and with audio at least 5 frames away."""

    net: SyncNet
    positions: np.ndarray
    own: np.ndarray
    offset: np.ndarray

    @classmethod
    def over(cls, net: SyncNet, clip: AvatarClip, frames: np.ndarray) -> "SyncJudge | None":
        half = FRAMES // 2
        positions = np.array([k for k in range(half, len(frames) - half) if frames[k + half] - frames[k - half]
                              == FRAMES - 1], np.int64)
        if len(positions) < 12:
            return None
        partners = offset_partners(positions, 5, np.random.default_rng(0))
        return cls(net, positions, clip.audio[frames[positions]], clip.audio[frames[partners]])

    def measure(self, crops: np.ndarray) -> dict[str, float]:
        windows = crop_windows(crops, self.positions)
        own, offset = sync_scores(self.net, windows, self.own), sync_scores(self.net, windows, self.offset)
        return {"sync_confidence": float(own.mean()), "sync_margin": float((own - offset).mean()),
                "sync_preference": float((own > offset).mean())}


def generate(model: LipSyncGenerator, clip: AvatarClip, frames: np.ndarray, references: np.ndarray,
             audio: np.ndarray, batch: int = 16) -> np.ndarray:
    """(n, S, S, 3) uint8 crops for `frames` (masked) with `references`, driven by `audio` (n, T, D)."""
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(frames), batch):
            target = torch.from_numpy(clip.crops[frames[s:s + batch]]).permute(0, 3, 1, 2).float() / 255
            reference = torch.from_numpy(clip.crops[references[s:s + batch]]).permute(0, 3, 1, 2).float() / 255
            sound = torch.from_numpy(audio[s:s + batch])[:, None]
            y = model(generator_inputs(target, reference, model.config.mask_top), sound)
            out.append((y.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8))
    return np.concatenate(out)


def compare(name: str, crops: np.ndarray, real: np.ndarray, real_track: MouthTrack, judge: Judge,
            envelope: np.ndarray, silent: np.ndarray, masks: np.ndarray,
            sync: SyncJudge | None = None) -> dict[str, float]:
    """All measures of one way of producing the held-out frames against the real ones."""
    track = measure_mouths(judge, crops)
    lower, real_lower = lower_face(crops, judge.mask_top), lower_face(real, judge.mask_top)
    real_flicker = float(np.abs(np.diff(real_lower, axis=0)).mean()) or 1e-9
    real_silent = float(real_track.opening[silent].std()) if silent.sum() >= 3 else 0.0
    metrics = {
        "mouth_open_corr": pearson(track.opening, real_track.opening),
        "mouth_landmark_dist": float(np.linalg.norm(track.lips - real_track.lips, axis=2).mean()),
        "mouth_psnr": psnr(lower, real_lower),
        "sync_offset_frames": float(abs(best_lag(track.opening, envelope) - best_lag(real_track.opening, envelope))),
        "flicker": float(np.abs(np.diff(lower, axis=0)).mean()) / real_flicker,
        "silent_motion": (float(track.opening[silent].std()) / real_silent) if real_silent > 0 else 0.0,
        "sharpness": sharpness(crops, judge.mask_top) / max(sharpness(real, judge.mask_top), 1e-9),
        "seam_error": seam_error(crops, real, masks),
        **(sync.measure(crops) if sync is not None else {}),
    }
    return {f"{name}_{k}" if name else k: v for k, v in metrics.items()}


def reference_frames(clip: AvatarClip, train_frames: range, count: int, seed: int = 0) -> np.ndarray:
    """`count` reference frames drawn (fixed seed) from the training part's frames that have a face."""
    usable = np.array([i for i in train_frames if clip.has_face[i]])
    return np.random.default_rng(seed).choice(usable, count)


def evaluate(model: LipSyncGenerator, clip: AvatarClip, train_frames: range, held_out: range, models_root: Path,
             progress: Callable[[str], None] = lambda m: None, draws: int = REFERENCE_DRAWS,
             syncnet: SyncNet | None = None) -> dict[str, float]:
    """The model and both baselines on the held-out frames that have a face (see the module text), each measure
    the mean over `draws` independent draws of the reference frames; with `syncnet`, its sync measures too."""
    frames = np.array([i for i in held_out if clip.has_face[i]])
    if len(frames) < 10:
        raise ValueError(f"only {len(frames)} held-out frames have a face; at least 10 are needed to evaluate")
    anchor = int(reference_frames(clip, train_frames, 1)[0])
    judge = Judge(FaceMesh(models_root, threads=2), clip.crops[anchor],
                  roi_from_landmarks(clip.crop_landmarks(anchor)), model.config.mask_top)
    real = clip.crops[frames]
    real_track = measure_mouths(judge, real)
    envelope = clip.level_db[frames]
    silent = envelope < SILENT_FRAME_DB
    size = model.config.size
    masks = np.stack([mouth_mask(clip.landmarks[f], clip.transforms[f].astype(np.float64), size) for f in frames])
    sync = SyncJudge.over(syncnet, clip, frames) if syncnet is not None else None
    args = (real, real_track, judge, envelope, silent, masks, sync)
    other = clip.audio[np.array(list(train_frames))[:len(frames)]]
    if len(other) < len(frames):
        other = np.resize(other, (len(frames), *other.shape[1:]))
    runs = []
    for draw in range(draws):
        progress(f"generating the held-out frames and the baselines ({draw + 1} of {draws})")
        references = reference_frames(clip, train_frames, len(frames), seed=draw)
        metrics = compare("", generate(model, clip, frames, references, clip.audio[frames]), *args)
        metrics.update(compare("replay", clip.crops[references], *args))
        metrics.update(compare("other_audio", generate(model, clip, frames, references, other), *args))
        runs.append(metrics)
    metrics = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
    metrics.update(held_out_frames=float(len(frames)), silent_frames=float(silent.sum()),
                   real_mouth_open_std=float(real_track.opening.std()), reference_draws=float(draws))
    if sync is not None:
        metrics.update({f"real_{k}": v for k, v in sync.measure(real).items()})
    return metrics


@dataclass(frozen=True)
class GateThresholds:
    """What a version must reach to become active (settings LT_AVATAR_GATE_*)."""

    min_mouth_corr: float
    min_corr_margin: float
    max_landmark_ratio: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "GateThresholds":
        return cls(settings.avatar_gate_min_mouth_corr, settings.avatar_gate_min_corr_margin,
                   settings.avatar_gate_max_landmark_ratio)


def gate(metrics: dict[str, float], thresholds: GateThresholds) -> list[str]:
    """The failed rules of an evaluated version (empty: it may be promoted)."""
    failures = []
    corr = metrics["mouth_open_corr"]
    if corr < thresholds.min_mouth_corr:
        failures.append(f"mouth_open_corr {corr:.2f} < {thresholds.min_mouth_corr:.2f}")
    for baseline in ("replay", "other_audio"):
        other = metrics[f"{baseline}_mouth_open_corr"]
        if corr - other < thresholds.min_corr_margin:
            failures.append(f"mouth_open_corr {corr:.2f} is not {thresholds.min_corr_margin:.2f} above the "
                            f"{baseline} baseline's {other:.2f}")
    ratio = metrics["mouth_landmark_dist"] / max(metrics["replay_mouth_landmark_dist"], 1e-9)
    if ratio > thresholds.max_landmark_ratio:
        failures.append(f"mouth_landmark_dist is {ratio:.2f} of the replay baseline's (at most "
                        f"{thresholds.max_landmark_ratio:.2f})")
    return failures


def passes(metrics: dict[str, float], thresholds: GateThresholds) -> bool:
    """Whether recorded metrics pass the gate; metrics without its measures (a card-registered version) do not."""
    return GATED <= metrics.keys() and not gate(metrics, thresholds)
