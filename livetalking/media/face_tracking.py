"""Face tracking over a take: detect, then follow with the mesh's own ROI; re-detect when the face is lost."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livetalking.media.face_detection import FaceDetector
from livetalking.media.face_mesh import MIN_PRESENCE, FaceMesh, FaceRoi, roi_from_detection, roi_from_landmarks
from livetalking.media.smoothing import OneEuroFilter


@dataclass(frozen=True)
class FaceObservation:
    """One frame: smoothed landmarks (468, 3) in pixels or None, how many faces the detector saw (when it ran)."""

    landmarks: np.ndarray | None
    raw_landmarks: np.ndarray | None
    presence: float
    faces_detected: int | None


class FaceTracker:
    """Feed frames in order; each gives a FaceObservation."""

    def __init__(self, models_root: Path, fps: float, threads: int = 2):
        self.detector = FaceDetector(models_root, threads)
        self.mesh = FaceMesh(models_root, threads)
        self.smoother = OneEuroFilter(fps, min_cutoff_hz=0.8, beta=0.02)
        self.roi: FaceRoi | None = None

    def _detect(self, frame: np.ndarray) -> tuple[FaceRoi | None, int]:
        faces = self.detector.detect(frame)
        return (roi_from_detection(faces[0]) if faces else None), len(faces)

    def __call__(self, frame: np.ndarray) -> FaceObservation:
        detected = None
        if self.roi is None:
            self.roi, detected = self._detect(frame)
        if self.roi is None:
            self.smoother.reset()
            return FaceObservation(None, None, 0.0, detected)
        landmarks, presence = self.mesh.landmarks(frame, self.roi)
        if presence < MIN_PRESENCE and detected is None:
            self.roi, detected = self._detect(frame)
            if self.roi is not None:
                landmarks, presence = self.mesh.landmarks(frame, self.roi)
        if self.roi is None or presence < MIN_PRESENCE:
            self.roi = None
            self.smoother.reset()
            return FaceObservation(None, None, presence, detected)
        self.roi = roi_from_landmarks(landmarks)
        return FaceObservation(self.smoother(landmarks), landmarks, presence, detected)
