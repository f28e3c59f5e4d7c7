"""Green-screen backdrop estimate from the frame border: key colour, its spread, the backdrop share."""

import colorsys
from dataclasses import asdict, dataclass

import numpy as np

BORDER_FRACTION = 0.04
GREEN_HUE_DEG = (75.0, 165.0)
MIN_KEY_SATURATION = 0.2
MIN_CHROMA_TOLERANCE = 0.035


@dataclass(frozen=True)
class BackdropInfo:
    """Estimated key colour (RGB 0..255, hue in degrees), its chroma spread, and the border's backdrop share."""

    key_rgb: tuple[int, int, int]
    key_hue_deg: float
    key_saturation: float
    spread: float
    border_share: float
    is_green: bool

    def as_dict(self) -> dict:
        return asdict(self)


def border_pixels(frame: np.ndarray, fraction: float = BORDER_FRACTION) -> np.ndarray:
    """The pixels of a band around the frame edge, as (N, 3) float32 in 0..1."""
    h, w, _ = frame.shape
    band = max(2, int(round(min(h, w) * fraction)))
    strips = [frame[:band], frame[-band:], frame[band:-band, :band], frame[band:-band, -band:]]
    return np.concatenate([s.reshape(-1, 3) for s in strips]).astype(np.float32) / 255.0


def chroma(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) RGB in 0..1 to (N, 2) Cb, Cr (BT.601), independent of brightness."""
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    return np.stack([cb, cr], axis=1)


def estimate_backdrop(frames: list[np.ndarray]) -> BackdropInfo:
    """Estimate the backdrop from the borders of a few RGB uint8 frames."""
    pixels = np.concatenate([border_pixels(f) for f in frames])
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    greenish = (g > r + 0.04) & (g > b + 0.04) & (g > 0.08)
    candidates = pixels[greenish] if greenish.sum() >= max(16, 0.05 * len(pixels)) else pixels
    key = np.median(candidates, axis=0)
    key_chroma = chroma(key[None, :])[0]
    distance = np.linalg.norm(chroma(candidates) - key_chroma, axis=1)
    spread = float(1.4826 * np.median(np.abs(distance - np.median(distance))) + np.median(distance))
    tolerance = max(3.0 * spread, MIN_CHROMA_TOLERANCE)
    all_distance = np.linalg.norm(chroma(pixels) - key_chroma, axis=1)
    share = float(np.mean((all_distance <= tolerance) & (g > r) & (g > b)))
    hue, saturation, _ = colorsys.rgb_to_hsv(*(float(c) for c in key))
    hue_deg = hue * 360.0
    is_green = GREEN_HUE_DEG[0] <= hue_deg <= GREEN_HUE_DEG[1] and saturation >= MIN_KEY_SATURATION
    return BackdropInfo(
        key_rgb=tuple(int(round(c * 255)) for c in key),
        key_hue_deg=round(hue_deg, 1),
        key_saturation=round(float(saturation), 3),
        spread=round(spread, 4),
        border_share=round(share, 4),
        is_green=bool(is_green),
    )
