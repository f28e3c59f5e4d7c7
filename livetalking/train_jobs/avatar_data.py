"""A prepared take as arrays for the lip-sync model: crops, face tracks, audio windows, and the held-out split."""

from dataclasses import dataclass

import numpy as np

from livetalking.media.audio_features import AUDIO_LEAD, frame_levels, mel_windows
from livetalking.media.video_io import iter_frames
from livetalking.platform.store import ArtifactStore
from livetalking.platform.prepared_manifest import PreparedManifest

HELD_OUT_SHARE = 0.2


@dataclass(frozen=True)
class AvatarClip:
    """Frames of one or more takes: crops (N, S, S, 3) uint8, landmarks (N, 468, 3) in frame pixels (NaN where no
    face), crop transforms (N, 2, 3), each frame's audio window (N, 16, 80) and speech level (N,) in dB, fps."""

    crops: np.ndarray
    landmarks: np.ndarray
    transforms: np.ndarray
    audio: np.ndarray
    level_db: np.ndarray
    fps: float

    @property
    def frames(self) -> int:
        return len(self.crops)

    @property
    def has_face(self) -> np.ndarray:
        return np.isfinite(self.landmarks).all(axis=(1, 2))

    def crop_landmarks(self, index: int) -> np.ndarray:
        """The landmarks (468, 3) of frame `index` in its crop's coordinates."""
        matrix = self.transforms[index].astype(np.float64)
        points = self.landmarks[index].astype(np.float64)
        scale = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
        return np.hstack([points[:, :2] @ matrix[:2, :2].T + matrix[:, 2], points[:, 2:] * scale])

    def slice(self, start: int, stop: int) -> "AvatarClip":
        return AvatarClip(self.crops[start:stop], self.landmarks[start:stop], self.transforms[start:stop],
                          self.audio[start:stop], self.level_db[start:stop], self.fps)


def concat_clips(clips: list[AvatarClip]) -> AvatarClip:
    """One clip of several takes' frames (each frame keeps its own audio window); the frame rates must match."""
    if len({c.fps for c in clips}) != 1:
        raise ValueError(f"takes of one avatar must share a frame rate, got {sorted({c.fps for c in clips})}")
    return AvatarClip(*(np.concatenate([getattr(c, f) for c in clips])
                        for f in ("crops", "landmarks", "transforms", "audio", "level_db")), clips[0].fps)


def split_held_out(frames: int, share: float = HELD_OUT_SHARE) -> tuple[range, range]:
    """(training frames, held-out tail): the last `share` of the frames is never trained on."""
    cut = int(round(frames * (1 - share)))
    return range(0, cut), range(cut, frames)


def load_clip(store: ArtifactStore, manifest: PreparedManifest, size: int) -> AvatarClip:
    """Decode a prepared take's `size` px crops, tracks and mel into one clip."""
    if size not in manifest.parameters.crop_sizes:
        raise ValueError(f"the prepared take has crops of {manifest.parameters.crop_sizes} px, not {size}")
    crops, landmarks, transforms = [], [], []
    for chunk in sorted(manifest.chunks, key=lambda c: c.start):
        video = manifest.chunk_file(chunk, f"crop_{size}.mp4")
        tracks_file = manifest.chunk_file(chunk, "tracks.npz")
        with store.open_local(video.key, video.sha256) as path:
            frames = list(iter_frames(path))
        with store.open_local(tracks_file.key, tracks_file.sha256) as path, np.load(path) as tracks:
            landmarks.append(tracks["landmarks"])
            transforms.append(tracks[f"transform_{size}"])
        crops.append(np.stack(frames)[: chunk.frames])
    audio = manifest.take_file("audio.npz")
    with store.open_local(audio.key, audio.sha256) as path, np.load(path) as features:
        mel = features["mel"].astype(np.float32)
    frames = sum(len(c) for c in crops)
    return AvatarClip(np.concatenate(crops), np.concatenate(landmarks).astype(np.float32),
                      np.concatenate(transforms).astype(np.float32),
                      mel_windows(mel, frames, manifest.fps, AUDIO_LEAD), frame_levels(mel, frames, manifest.fps),
                      manifest.fps)
