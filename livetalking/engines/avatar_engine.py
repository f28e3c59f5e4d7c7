"""A registered avatar version, ready to talk: its generator (ONNX Runtime or TorchScript) and an idle loop of its
prepared take; audio in, composited frames out.

The idle loop is the stillest stretch of the take (least head motion, a face in every frame), played
ping-pong so it never jumps. For each output frame the loop's frame gives the pose and the reference;
its lower face is redrawn from the audio window unless the window is silent, where the real frame is
kept (a closed, still mouth, no trembling). The redrawn crop is colour-matched to the frame on the
seam band, pasted back through the feathered mouth mask, and composited with the prepared matte over
the background (a colour, an image, or transparent).
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from livetalking.media.audio_features import RATE, SILENT_FRAME_DB, extract_features, frame_levels
from livetalking.media.face_align import colour_match, mouth_mask, paste_back
from livetalking.media.face_regions import NOSE_TIP
from livetalking.media.lip_audio import lip_audio_windows
from livetalking.media.video_io import iter_frames
from livetalking.nets.lipsync import LipSyncConfig
from livetalking.platform.prepared_manifest import PreparedManifest
from livetalking.platform.store import ArtifactStore

LOOP_SECONDS = 8.0
BATCH = 16


@dataclass(frozen=True)
class IdleLoop:
    """Consecutive prepared frames: foreground (N, H, W, 3), alpha (N, H, W), crops (N, S, S, 3), transforms
    (N, 2, 3) and landmarks (N, 468, 3) in frame pixels."""

    foreground: np.ndarray
    alpha: np.ndarray
    crops: np.ndarray
    transforms: np.ndarray
    landmarks: np.ndarray
    fps: float

    def index(self, k: int) -> int:
        """The loop frame shown at output frame k (ping-pong: 0, 1, ..., N-1, N-2, ..., 1, 0, 1, ...)."""
        n = len(self.crops)
        if n == 1:
            return 0
        k %= 2 * n - 2
        return k if k < n else 2 * n - 2 - k


def stillest_stretch(landmarks: np.ndarray, length: int) -> int:
    """The first frame of the `length` consecutive frames with a face whose nose moves least in all."""
    face = np.isfinite(landmarks).all(axis=(1, 2))
    nose = np.where(face[:, None], landmarks[:, NOSE_TIP, :2], 0.0)
    motion = np.r_[0.0, np.linalg.norm(np.diff(nose, axis=0), axis=1)]
    best, best_cost = None, np.inf
    for start in range(0, len(landmarks) - length + 1):
        if not face[start:start + length].all():
            continue
        cost = motion[start + 1:start + length].sum()
        if cost < best_cost:
            best, best_cost = start, cost
    if best is None:
        raise ValueError(f"the take has no {length} consecutive frames with a face")
    return best


def load_idle_loop(store: ArtifactStore, manifest: PreparedManifest, size: int,
                   seconds: float = LOOP_SECONDS) -> IdleLoop:
    """Decode the stillest `seconds` of a prepared take (the whole take when it is shorter)."""
    chunks = sorted(manifest.chunks, key=lambda c: c.start)
    tracks = []
    for chunk in chunks:
        ref = manifest.chunk_file(chunk, "tracks.npz")
        with store.open_local(ref.key, ref.sha256) as path, np.load(path) as npz:
            tracks.append({k: npz[k] for k in ("landmarks", f"transform_{size}")})
    landmarks = np.concatenate([t["landmarks"] for t in tracks])
    transforms = np.concatenate([t[f"transform_{size}"] for t in tracks])
    length = min(len(landmarks), max(2, int(round(seconds * manifest.fps))))
    start = stillest_stretch(landmarks, length)
    wanted = range(start, start + length)
    pictures: dict[str, list[np.ndarray]] = {"frames.mp4": [], "alpha.mkv": [], f"crop_{size}.mp4": []}
    for chunk in chunks:
        first, last = max(wanted.start, chunk.start), min(wanted.stop, chunk.start + chunk.frames)
        if first >= last:
            continue
        for name, out in pictures.items():
            ref = manifest.chunk_file(chunk, name)
            with store.open_local(ref.key, ref.sha256) as path:
                out.extend(iter_frames(path, first - chunk.start, last - first))
    alpha = np.stack(pictures["alpha.mkv"])
    return IdleLoop(np.stack(pictures["frames.mp4"]), alpha[..., 0] if alpha.ndim == 4 else alpha,
                    np.stack(pictures[f"crop_{size}.mp4"]), transforms[wanted.start:wanted.stop].astype(np.float64),
                    landmarks[wanted.start:wanted.stop], manifest.fps)


def composite(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray | None) -> np.ndarray:
    """The frame over the background (H, W, 3) uint8, or RGBA with the matte when the background is None."""
    if background is None:
        return np.dstack([foreground, alpha])
    weight = alpha.astype(np.float32)[..., None] / 255.0
    return (weight * foreground + (1 - weight) * background).round().astype(np.uint8)


class AvatarRenderer:
    """frames(audio) -> the talking, composited frames, one per 1/fps of the audio."""

    def __init__(self, loop: IdleLoop, generator, config: LipSyncConfig, silent_db: float = SILENT_FRAME_DB):
        self.loop, self.generator, self.config, self.silent_db = loop, generator, config, silent_db
        size = config.size
        self.masks = np.stack([mouth_mask(lm, tf, size) for lm, tf in zip(loop.landmarks, loop.transforms,
                                                                           strict=True)])

    def frame_count(self, audio_16k: np.ndarray) -> int:
        return int(np.ceil(len(audio_16k) / RATE * self.loop.fps - 1e-9))

    def mouths(self, audio_16k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(loop index per output frame, the model's audio windows (n, T, D), whether each frame speaks)."""
        features = extract_features(audio_16k)
        count = self.frame_count(audio_16k)
        windows = lip_audio_windows(self.config.audio, features.audio, features.mel, count, self.loop.fps)
        speaking = frame_levels(features.mel, count, self.loop.fps) >= self.silent_db
        return np.array([self.loop.index(k) for k in range(count)], np.int64), windows, speaking

    def frames(self, audio_16k: np.ndarray, background: np.ndarray | None) -> Iterator[np.ndarray]:
        """Composited frames for 16 kHz audio, generated in batches (memory bounded by the batch)."""
        indices, windows, speaking = self.mouths(audio_16k)
        row = int(round(self.config.mask_top * self.config.size))
        for start in range(0, len(indices), BATCH):
            batch = indices[start:start + BATCH]
            talk = speaking[start:start + BATCH]
            redrawn = {}
            if talk.any():
                chosen = batch[talk]
                crops = self.loop.crops[chosen].astype(np.float32).transpose(0, 3, 1, 2) / 255.0
                masked = crops.copy()
                masked[:, :, row:, :] = 0.0
                faces = np.concatenate([masked, crops], axis=1)
                audio = windows[start:start + BATCH][talk][:, None].astype(np.float32)
                out = (self.generator(faces, audio).transpose(0, 2, 3, 1) * 255).round().clip(0, 255).astype(np.uint8)
                redrawn = dict(zip(np.nonzero(talk)[0].tolist(), out, strict=True))
            for position, index in enumerate(batch):
                foreground = self.loop.foreground[index]
                if position in redrawn:
                    mask = self.masks[index]
                    crop = colour_match(redrawn[position], self.loop.crops[index], mask)
                    foreground = paste_back(foreground, crop, self.loop.transforms[index], mask)
                yield composite(foreground, self.loop.alpha[index], background)
