"""A prepared take as arrays for the lip-sync model: crops, face tracks, audio windows, and the held-out split
(pure arrays; clip_loader decodes one from the artifact store)."""

from dataclasses import dataclass

import numpy as np


HELD_OUT_SHARE = 0.2


@dataclass(frozen=True)
class AvatarClip:
    """Frames of one or more takes: crops (N, S, S, 3) uint8, landmarks (N, 468, 3) in frame pixels (NaN where no
    face), crop transforms (N, 2, 3), each frame's audio window (N, T, D) of `feature` (media/lip_audio) and speech
    level (N,) in dB, fps."""

    crops: np.ndarray
    landmarks: np.ndarray
    transforms: np.ndarray
    audio: np.ndarray
    level_db: np.ndarray
    fps: float
    feature: str = "whisper_mel"

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
                          self.audio[start:stop], self.level_db[start:stop], self.fps, self.feature)


def concat_clips(clips: list[AvatarClip]) -> AvatarClip:
    """One clip of several takes' frames (each frame keeps its own audio window); the frame rates and audio features
    must match."""
    if len({(c.fps, c.feature) for c in clips}) != 1:
        raise ValueError(f"takes of one avatar must share a frame rate and audio feature, got "
                         f"{sorted({(c.fps, c.feature) for c in clips})}")
    return AvatarClip(*(np.concatenate([getattr(c, f) for c in clips])
                        for f in ("crops", "landmarks", "transforms", "audio", "level_db")), clips[0].fps,
                      clips[0].feature)


def split_held_out(frames: int, share: float = HELD_OUT_SHARE) -> tuple[range, range]:
    """(training frames, held-out tail): the last `share` of the frames is never trained on."""
    cut = int(round(frames * (1 - share)))
    return range(0, cut), range(cut, frames)
