"""Square face crops for the lip-sync model (96, 160, 256 px) with the mouth in a fixed place, and their inverses.

Each frame gets one similarity transform (rotation, uniform scale, translation) fitted by least squares
(Umeyama) from the eye centres and the nose tip to a canonical template, so the face is upright and
a neutral mouth sits at (0.5, 0.72) of every crop; the inverse pastes a crop back. The mouth is not
an anchor: with it, opening the mouth moved the whole crop (the eyes rose in it), and a lip-sync
generator then read the mouth from where the eyes sat instead of from the audio (measured: driving
it with unrelated audio kept the mouth-opening correlation at 0.53).
"""

import cv2
import numpy as np

from livetalking.media.face_regions import LIPS_OUTER, anchor_points

CROP_SIZES = (96, 160, 256)
# Canonical positions as fractions of the crop side: right eye, left eye, nose tip (the anchors), mouth centre.
TEMPLATE = np.array([[0.34, 0.38], [0.66, 0.38], [0.50, 0.56], [0.50, 0.72]])
ANCHORS = 3


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity mapping source points (N, 2) onto target points (Umeyama 1991)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s, t = source - mu_s, target - mu_t
    covariance = t.T @ s / len(source)
    u, d, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(d) @ sign) / s.var(0).sum()
    matrix = scale * rotation
    return np.hstack([matrix, (mu_t - matrix @ mu_s)[:, None]])


def invert(affine: np.ndarray) -> np.ndarray:
    """The inverse of a (2, 3) affine map."""
    return cv2.invertAffineTransform(affine)


def crop_transform(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(2, 3) image -> crop map for a size x size crop."""
    return similarity(anchor_points(landmarks)[:ANCHORS], TEMPLATE[:ANCHORS] * size)


def warp_crop(frame: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """The crop itself (size, size, C)."""
    return cv2.warpAffine(frame, transform, (size, size), flags=cv2.INTER_AREA if size < 128 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def paste_back(frame: np.ndarray, crop: np.ndarray, transform: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Blend a (possibly edited) crop into the frame through a soft crop-space mask (size, size) in 0..1."""
    height, width = frame.shape[:2]
    inverse = invert(transform)
    warped = cv2.warpAffine(crop, inverse, (width, height), flags=cv2.INTER_LINEAR)
    weight = cv2.warpAffine(mask.astype(np.float32), inverse, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    return (weight * warped + (1 - weight) * frame).astype(frame.dtype)


def colour_match(generated: np.ndarray, base: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shift the generated crop's colour so its seam band (0.05 < mask < 0.6) has the base crop's mean (before
    paste_back through the same mask)."""
    band = (mask > 0.05) & (mask < 0.6)
    if band.sum() < 10:
        return generated
    shift = base[band].astype(np.float32).mean(0) - generated[band].astype(np.float32).mean(0)
    return np.clip(generated.astype(np.float32) + shift, 0, 255).astype(np.uint8)


def crop_box(transform: np.ndarray, size: int) -> np.ndarray:
    """(4, 2) the crop's corners in image pixels (a rotated square)."""
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    inverse = invert(transform)
    return corners @ inverse[:, :2].T + inverse[:, 2]


def mouth_mask(landmarks: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32: the lips' outer contour in crop space, grown to the jaw and feathered."""
    lips = landmarks[list(LIPS_OUTER), :2] @ transform[:, :2].T + transform[:, 2]
    centre = lips.mean(0)
    grown = centre + (lips - centre) * np.array([1.6, 2.2])
    mask = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(mask, np.round(grown).astype(np.int32), 1.0, lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), size / 40)
