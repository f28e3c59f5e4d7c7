"""One frame through the whole preparation chain: key, matte, segmentation repair, face track, layers, crops."""

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livetalking.media.chroma_key import KeyModel, despill, pull_alpha
from livetalking.media.face_align import CROP_SIZES, crop_transform, warp_crop
from livetalking.media.face_regions import LIPS_OUTER
from livetalking.media.face_tracking import FaceTracker
from livetalking.media.layers import build_layers, repair_with_segmentation
from livetalking.media.matte_refine import refine_edges, repair_alpha
from livetalking.media.segmentation import PersonSegmenter


@dataclass(frozen=True)
class FrameResult:
    foreground: np.ndarray             # (H, W, 3) uint8, despilled
    alpha: np.ndarray                  # (H, W) uint8
    layers: np.ndarray                 # (H/2, W/2, 3) uint8: face, hair, body at half resolution
    landmarks: np.ndarray | None       # (468, 3) smoothed, pixels
    presence: float
    faces_detected: int | None
    transforms: dict[int, np.ndarray]  # size -> (2, 3) image -> crop
    crops: dict[int, np.ndarray]       # size -> (size, size, 3) uint8
    green_excess_on_edges: float       # mean G - max(R, B) of edge pixels before despill (spill level)


def _edge_spill(frame: np.ndarray, person: np.ndarray, step: int = 2) -> float:
    """Mean green excess (0..255) of the matte's soft edge before despill, on every `step`-th pixel."""
    coarse, rgb = person[::step, ::step], frame[::step, ::step]
    edge = (coarse > 0.05) & (coarse < 0.95)
    if not edge.any():
        return 0.0
    pixels = rgb[edge].astype(np.int16)
    return float(np.mean(np.clip(pixels[:, 1] - np.maximum(pixels[:, 0], pixels[:, 2]), 0, None)))


def _u8(values: np.ndarray) -> np.ndarray:
    """0..1 floats to 0..255 bytes, rounded and saturated."""
    return cv2.convertScaleAbs(values, alpha=255.0)


class FramePipeline:
    """Stateful over a run of consecutive frames (tracking and smoothing carry over); times each stage."""

    def __init__(self, models_root: Path, key: KeyModel, fps: float, threads: int = 2):
        self.key = key
        self.segmenter = PersonSegmenter(models_root, threads)
        self.tracker = FaceTracker(models_root, fps, threads)
        self.seconds: dict[str, float] = defaultdict(float)

    def _timed(self, stage: str, began: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] += now - began
        return now

    def __call__(self, frame: np.ndarray) -> FrameResult:
        t = time.perf_counter()
        inside = self.key.area.mask(*frame.shape[:2])
        alpha = pull_alpha(frame, self.key)
        t = self._timed("chroma key", t)
        alpha = repair_alpha(alpha, inside)
        t = self._timed("matte repair", t)
        alpha = refine_edges(frame, alpha)
        alpha[~inside] = 0.0
        t = self._timed("edge refinement", t)
        person = repair_with_segmentation(alpha, self.segmenter.person_mask(frame, full_resolution=False), inside)
        t = self._timed("segmentation", t)
        observation = self.tracker(frame)
        t = self._timed("face tracking", t)
        height, width = person.shape
        half = cv2.resize(person, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        scale = np.array([(width // 2) / width, (height // 2) / height, 1.0])
        layers = build_layers(half, None if observation.landmarks is None else observation.landmarks * scale)
        spill = _edge_spill(frame, person)
        foreground = despill(frame)
        t = self._timed("layers + despill", t)
        transforms, crops = {}, {}
        if observation.landmarks is not None:
            for size in CROP_SIZES:
                transforms[size] = crop_transform(observation.landmarks, size)
                crops[size] = warp_crop(foreground, transforms[size], size)
        self._timed("crops", t)
        return FrameResult(foreground, _u8(person), cv2.merge([_u8(layers.face), _u8(layers.hair), _u8(layers.body)]),
                           observation.landmarks, observation.presence, observation.faces_detected, transforms,
                           crops, spill)


def mouth_polygon(landmarks: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """(20, 2) the outer lip contour in crop coordinates (the mouth mask is rebuilt from it by face_align)."""
    return landmarks[list(LIPS_OUTER), :2] @ transform[:, :2].T + transform[:, 2]

