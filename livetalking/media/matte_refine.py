"""Matte clean-up: fill small holes in the subject, drop specks in the backdrop, refine edges with a guided filter."""

import cv2
import numpy as np

MAX_HOLE_FRACTION = 0.003
MAX_SPECK_FRACTION = 0.001
GUIDED_EPS = 1e-3


def components_below(mask: np.ndarray, max_area: int, keep_touching_border: bool) -> np.ndarray:
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


def repair_step(height: int, width: int) -> int:
    """The grid step that brings the short side to about 360 px for the component search."""
    return max(1, min(height, width) // 360)


def coarse_repairs(alpha: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(holes to fill, specks to drop) of a coarse matte: enclosed gaps < 0.3 %, islands < 0.1 % of the picture."""
    area = int(inside.sum())
    subject = (alpha >= 0.5) & inside
    holes = components_below(~subject & inside, max(1, int(area * MAX_HOLE_FRACTION)), keep_touching_border=True)
    specks = components_below(subject, max(1, int(area * MAX_SPECK_FRACTION)), keep_touching_border=False)
    return holes, specks


def repair_alpha(alpha: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Fill enclosed holes in the subject smaller than 0.3 % of the picture; remove specks smaller than 0.1 %.

    Components are found on a grid of at most ~360 px on the short side (the sizes are fractions of
    the picture, so the answer does not depend on resolution) and applied at full resolution.
    """
    height, width = alpha.shape
    step = repair_step(height, width)
    holes, specks = coarse_repairs(alpha[::step, ::step], inside[::step, ::step])
    if step > 1:
        holes = _upsample_mask(holes, step, height, width) & (alpha < 0.5) & inside
        specks = _upsample_mask(specks, step, height, width) & (alpha >= 0.5)
    repaired = alpha.copy()
    repaired[holes] = 1.0
    repaired[specks] = 0.0
    return repaired


def _upsample_mask(mask: np.ndarray, step: int, height: int, width: int) -> np.ndarray:
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    full = cv2.resize(grown, (grown.shape[1] * step, grown.shape[0] * step), interpolation=cv2.INTER_NEAREST)
    return full[:height, :width].astype(bool)


def box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT_101)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float = GUIDED_EPS,
                  subsample: int = 1) -> np.ndarray:
    """He et al.'s guided filter with a grey guide: edges of `source` follow the edges of `guide`.

    With subsample > 1 it is the fast guided filter (He and Sun 2015): the linear coefficients are
    found on a grid `subsample` times coarser and applied to the full-resolution guide.
    """
    height, width = guide.shape
    if subsample > 1:
        small = (max(1, width // subsample), max(1, height // subsample))
        guide_s = cv2.resize(guide, small, interpolation=cv2.INTER_AREA)
        source_s = cv2.resize(source, small, interpolation=cv2.INTER_AREA)
        radius = max(1, radius // subsample)
    else:
        guide_s, source_s = guide, source
    mean_i, mean_p = box(guide_s, radius), box(source_s, radius)
    cov_ip = box(guide_s * source_s, radius) - mean_i * mean_p
    var_i = box(guide_s * guide_s, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    mean_a, mean_b = box(a, radius), box(b, radius)
    if subsample > 1:
        mean_a = cv2.resize(mean_a, (width, height), interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, (width, height), interpolation=cv2.INTER_LINEAR)
    return mean_a * guide + mean_b


def refine_edges(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Guided-filter the alpha in a band around the subject's edge; solid subject and backdrop stay as they are."""
    height, width = alpha.shape
    radius = max(2, round(min(height, width) / 200))
    subsample = max(1, min(height, width) // 360)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    filtered = np.clip(guided_filter(grey, alpha, radius * subsample, subsample=subsample), 0.0, 1.0)
    solid = (alpha >= 0.5).astype(np.uint8)
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    band = cv2.subtract(cv2.dilate(solid, kernel), cv2.erode(solid, kernel))
    return np.where(band.astype(bool), filtered, alpha)
