"""MediaPipe's 468-point face mesh (192x192) on a rotated square region of interest, projected back to the image."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livetalking.media.face_detection import FaceDetection
from livetalking.media.litert_model import TFLiteModel, base_model_path

INPUT = 192
ROI_SCALE = 1.5
RIGHT_EYE_CORNER, LEFT_EYE_CORNER = 33, 263
MIN_PRESENCE = 0.5


@dataclass(frozen=True)
class FaceRoi:
    """A square region: centre (x, y) in pixels, side in pixels, rotation in radians (eyes made level)."""

    centre: np.ndarray
    size: float
    angle: float

    def crop_to_image(self, crop: int) -> np.ndarray:
        """(2, 3) affine map from crop pixels (0..crop) to image pixels."""
        scale = self.size / crop
        c, s = np.cos(self.angle) * scale, np.sin(self.angle) * scale
        rotation = np.array([[c, -s], [s, c]])
        offset = self.centre - rotation @ np.array([crop / 2, crop / 2])
        return np.hstack([rotation, offset[:, None]]).astype(np.float64)


def _eye_angle(right_eye: np.ndarray, left_eye: np.ndarray) -> float:
    return float(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))


def roi_from_detection(face: FaceDetection) -> FaceRoi:
    """MediaPipe's detection -> ROI: box centre, long side x 1.5, rotated by the eye line."""
    x0, y0, x1, y1 = face.box
    return FaceRoi(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), max(x1 - x0, y1 - y0) * ROI_SCALE,
                   _eye_angle(face.keypoints[0], face.keypoints[1]))


def roi_from_landmarks(landmarks: np.ndarray) -> FaceRoi:
    """Tracking: the next frame's ROI from this frame's landmarks (bounding box in the eye-level frame, x 1.5)."""
    angle = _eye_angle(landmarks[RIGHT_EYE_CORNER, :2], landmarks[LEFT_EYE_CORNER, :2])
    c, s = np.cos(angle), np.sin(angle)
    points = landmarks[:, :2]
    mean = points.mean(axis=0)
    level = (points - mean) @ np.array([[c, -s], [s, c]])  # rotate by -angle
    low, high = level.min(axis=0), level.max(axis=0)
    centre_level = (low + high) / 2
    centre = mean + centre_level @ np.array([[c, s], [-s, c]])
    return FaceRoi(centre, float(max(high - low)) * ROI_SCALE, angle)


class FaceMesh:
    """landmarks(frame, roi) -> ((468, 3) pixels, presence score)."""

    def __init__(self, models_root: Path, threads: int = 2):
        self.model = TFLiteModel(base_model_path(models_root, "face_landmark"), threads)

    def landmarks(self, frame: np.ndarray, roi: FaceRoi) -> tuple[np.ndarray, float]:
        affine = roi.crop_to_image(INPUT)
        crop = cv2.warpAffine(frame, affine, (INPUT, INPUT), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        raw, presence = self.model((crop.astype(np.float32) / 255.0)[None])
        points = raw.reshape(468, 3).astype(np.float64)
        image_xy = points[:, :2] @ affine[:, :2].T + affine[:, 2]
        depth = points[:, 2:] * (roi.size / INPUT)
        score = float(1.0 / (1.0 + np.exp(-np.clip(presence.reshape(-1)[0], -80, 80))))
        return np.hstack([image_xy, depth]), score
