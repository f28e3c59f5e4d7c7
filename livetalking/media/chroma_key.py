"""Green-screen keying on the CPU: key model per take, soft alpha against a local clean plate, despill.

The alpha comes from the green excess e = G - max(R, B) of each pixel relative to the excess the
backdrop has at that place (the "clean plate", interpolated from confident backdrop pixels), so
gradient lighting and broad shadows on the backdrop do not leave a veil: r = e / E(x, y), alpha = 1
where r <= LOW (no more green than the subject), 0 where r >= high (as green as the backdrop there),
linear between; `high` sits three spreads below the backdrop's own r.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from livetalking.media.letterbox import ActiveArea, detect_active_area

LOW = 0.15
MIN_HIGH, MAX_HIGH = 0.45, 0.85
PLATE_SCALE = 8
PLATE_SIGMA = 6.0
EPS = 1e-4


@dataclass(frozen=True)
class KeyModel:
    """What keying one take needs: the key colour, its green excess and spread, the thresholds, the picture area."""

    key_rgb: tuple[float, float, float]
    key_excess: float
    spread: float
    high: float
    area: ActiveArea

    def as_dict(self) -> dict:
        return {"key_rgb": [round(c * 255) for c in self.key_rgb], "key_excess": round(self.key_excess, 4),
                "spread": round(self.spread, 4), "high": round(self.high, 4),
                "active_area": [self.area.top, self.area.bottom, self.area.left, self.area.right]}


def green_excess(rgb: np.ndarray) -> np.ndarray:
    """G - max(R, B) of float RGB (..., 3)."""
    return rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2])


def _as_float(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) * (1.0 / 255.0)


def estimate_key(frames: list[np.ndarray]) -> KeyModel:
    """Estimate the key from a few RGB uint8 frames of a take (robust to uneven lighting, ignores bars)."""
    area = detect_active_area(frames)
    pixels = np.concatenate([_as_float(f[area.slices]).reshape(-1, 3) for f in frames])
    excess = green_excess(pixels)
    greenish = excess > max(0.02, np.percentile(excess, 60) * 0.5)
    backdrop = pixels[greenish] if greenish.sum() > 0.02 * len(pixels) else pixels
    key = np.median(backdrop, axis=0)
    key_excess = float(max(green_excess(key), EPS))
    ratio = green_excess(backdrop) / np.maximum(backdrop[:, 1], EPS) / (key_excess / max(float(key[1]), EPS))
    spread = float(1.4826 * np.median(np.abs(ratio - np.median(ratio))))
    high = float(np.clip(1.0 - 3.0 * spread, MIN_HIGH, MAX_HIGH))
    return KeyModel(tuple(float(c) for c in key), key_excess, spread, high, area)


def clean_plate_excess(excess: np.ndarray, model: KeyModel) -> np.ndarray:
    """The backdrop's green excess at every pixel, interpolated from confident backdrop pixels (normalised blur)."""
    height, width = excess.shape
    small = cv2.resize(excess, (max(1, width // PLATE_SCALE), max(1, height // PLATE_SCALE)),
                       interpolation=cv2.INTER_AREA)
    confident = (small > 0.6 * model.key_excess).astype(np.float32)
    weight = cv2.GaussianBlur(confident, (0, 0), PLATE_SIGMA)
    value = cv2.GaussianBlur(small * confident, (0, 0), PLATE_SIGMA)
    plate = np.where(weight > 0.02, value / np.maximum(weight, EPS), model.key_excess)
    plate = np.maximum(plate, 0.5 * model.key_excess).astype(np.float32)
    return cv2.resize(plate, (width, height), interpolation=cv2.INTER_LINEAR)


def green_excess_u8(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32 max(0, G - max(R, B)) / 255 of an RGB uint8 frame (negative excess cannot matter: alpha 1)."""
    red, green, blue = cv2.split(frame)
    return cv2.subtract(green, cv2.max(red, blue)).astype(np.float32) * (1.0 / 255.0)


def pull_alpha(frame: np.ndarray, model: KeyModel) -> np.ndarray:
    """(H, W) float32 alpha in 0..1 of an RGB uint8 frame; 0 outside the picture area."""
    excess = green_excess_u8(frame)
    ratio = cv2.divide(excess, clean_plate_excess(excess, model))
    alpha = np.clip((model.high - ratio) * (1.0 / (model.high - LOW)), 0.0, 1.0)
    outside = ~model.area.mask(*alpha.shape)
    alpha[outside] = 0.0
    return alpha


def despill(frame: np.ndarray) -> np.ndarray:
    """Remove green spill: green is limited to max(R, B), so no pixel keeps a green cast. RGB uint8 in and out."""
    red, green, blue = cv2.split(frame)
    return cv2.merge([red, cv2.min(green, cv2.max(red, blue)), blue])
