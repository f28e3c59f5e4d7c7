"""BlazeFace (MediaPipe short-range face detector, 128x128) with SSD anchor decoding and weighted NMS."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livetalking.media.litert_model import TFLiteModel, base_model_path

INPUT = 128
STRIDES = (8, 16, 16, 16)
MIN_SCORE = 0.5
NMS_IOU = 0.3


@dataclass(frozen=True)
class FaceDetection:
    """A face in image pixels: score, box (x0, y0, x1, y1) and six keypoints (right eye, left eye, nose, mouth,
    right ear, left ear; 'right' is the subject's right, the image's left)."""

    score: float
    box: np.ndarray        # (4,)
    keypoints: np.ndarray  # (6, 2)


def ssd_anchors() -> np.ndarray:
    """(896, 2) anchor centres in 0..1, as MediaPipe's SsdAnchorsCalculator makes them for this model."""
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        per_cell = 0
        while layer < len(STRIDES) and STRIDES[layer] == stride:
            per_cell += 2
            layer += 1
        cells = int(np.ceil(INPUT / stride))
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> list[tuple]:
    """MediaPipe's weighted non-maximum suppression: overlapping detections are averaged by score."""
    order = np.argsort(-scores)
    remaining = order
    kept = []
    while remaining.size:
        overlap = _iou(boxes[remaining[0]], boxes[remaining]) > NMS_IOU
        cluster = remaining[overlap]
        weights = scores[cluster][:, None]
        box = (boxes[cluster] * weights).sum(0) / weights.sum()
        points = (keypoints[cluster] * weights[:, :, None]).sum(0) / weights.sum()
        kept.append((float(scores[remaining[0]]), box, points))
        remaining = remaining[~overlap]
    return kept


class FaceDetector:
    """detect(frame) -> faces, best first."""

    def __init__(self, models_root: Path, threads: int = 2):
        self.model = TFLiteModel(base_model_path(models_root, "face_detection_short_range"), threads)
        self.anchors = ssd_anchors()

    def detect(self, frame: np.ndarray) -> list[FaceDetection]:
        height, width = frame.shape[:2]
        side = max(height, width)
        pad_y, pad_x = (side - height) // 2, (side - width) // 2
        square = cv2.copyMakeBorder(frame, pad_y, side - height - pad_y, pad_x, side - width - pad_x,
                                    cv2.BORDER_CONSTANT, value=0)
        tensor = cv2.resize(square, (INPUT, INPUT), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1.0
        regressors, logits = self.model(tensor[None])  # (1, 896, 16), (1, 896, 1)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -80, 80)))
        keep = scores >= MIN_SCORE
        if not keep.any():
            return []
        reg, anchors = regressors[0, keep] / INPUT, self.anchors[keep]
        centre = reg[:, :2] + anchors
        half = reg[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        keypoints = reg[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        detections = []
        for score, box, points in weighted_nms(scores[keep], boxes, keypoints):
            to_image = np.array([side, side], np.float32)
            offset = np.array([pad_x, pad_y], np.float32)
            detections.append(FaceDetection(score, (box.reshape(2, 2) * to_image - offset).reshape(4),
                                            points * to_image - offset))
        return detections
