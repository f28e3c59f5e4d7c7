"""Matte clean-up: fill small holes in the subject, drop specks in the backdrop, refine edges with a guided filter."""

import cv2
import numpy as np

MAX_HOLE_FRACTION = 0.003
MAX_SPECK_FRACTION = 0.001
GUIDED_EPS = 1e-3


def _components_below(mask: np.ndarray, max_area: int, keep_touching_border: bool) -> np.ndarray:
    """(H, W) bool: the connected components of `mask` smaller than max_area (optionally not touching the border)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < max_area
    small[0] = False
    if keep_touching_border:
        height, width = mask.shape
        x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        touches = (x == 0) | (y == 0) | (x + w == width) | (y + h == height)
        small &= ~touches
    return small[labels]


def repair_alpha(alpha: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Fill enclosed holes in the subject smaller than 0.3 % of the picture; remove specks smaller than 0.1 %."""
    area = int(inside.sum())
    subject = (alpha >= 0.5) & inside
    holes = _components_below(~subject & inside, max(1, int(area * MAX_HOLE_FRACTION)), keep_touching_border=True)
    specks = _components_below(subject, max(1, int(area * MAX_SPECK_FRACTION)), keep_touching_border=False)
    repaired = alpha.copy()
    repaired[holes] = 1.0
    repaired[specks] = 0.0
    return repaired


def box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float = GUIDED_EPS) -> np.ndarray:
    """He et al.'s guided filter with a grey guide: edges of `source` follow the edges of `guide`."""
    mean_i, mean_p = box(guide, radius), box(source, radius)
    cov_ip = box(guide * source, radius) - mean_i * mean_p
    var_i = box(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a, radius) * guide + box(b, radius)


def refine_edges(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Guided-filter the alpha in a band around the subject's edge; solid subject and backdrop stay as they are."""
    height, width = alpha.shape
    radius = max(2, round(min(height, width) / 200))
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    filtered = np.clip(guided_filter(grey, alpha, radius), 0.0, 1.0)
    solid = (alpha >= 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    band = cv2.dilate(solid, kernel).astype(bool) & ~cv2.erode(solid, kernel).astype(bool)
    refined = alpha.copy()
    refined[band] = filtered[band]
    return refined
