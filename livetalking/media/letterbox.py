"""Find black bars (letterbox/pillarbox) at the frame edges: rows or columns that are dark and flat in every frame."""

from dataclasses import dataclass

import numpy as np

DARK = 0.08
FLAT = 0.03
MAX_BAR_FRACTION = 0.25


@dataclass(frozen=True)
class ActiveArea:
    """The picture without bars: rows [top, bottom) and columns [left, right)."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def mask(self, height: int, width: int) -> np.ndarray:
        """(H, W) bool, true inside the picture."""
        inside = np.zeros((height, width), bool)
        inside[self.slices] = True
        return inside


def _bar_length(profile_mean: np.ndarray, profile_std: np.ndarray, limit: int) -> int:
    length = 0
    while length < limit and profile_mean[length] < DARK and profile_std[length] < FLAT:
        length += 1
    return length


def detect_active_area(frames: list[np.ndarray]) -> ActiveArea:
    """Bars are counted only where every sampled frame is dark and flat, so a dark costume is not a bar."""
    luma = np.stack([f.astype(np.float32).mean(axis=2) / 255.0 for f in frames])  # (N, H, W)
    height, width = luma.shape[1:]
    row_mean, row_std = luma.mean(axis=2).max(axis=0), luma.std(axis=2).max(axis=0)
    col_mean, col_std = luma.mean(axis=1).max(axis=0), luma.std(axis=1).max(axis=0)
    top = _bar_length(row_mean, row_std, int(height * MAX_BAR_FRACTION))
    bottom = height - _bar_length(row_mean[::-1], row_std[::-1], int(height * MAX_BAR_FRACTION))
    left = _bar_length(col_mean, col_std, int(width * MAX_BAR_FRACTION))
    right = width - _bar_length(col_mean[::-1], col_std[::-1], int(width * MAX_BAR_FRACTION))
    return ActiveArea(top, bottom, left, right)
