"""Person segmentation with MediaPipe's selfie segmentation model (256x256, general)."""

from pathlib import Path

import cv2
import numpy as np

from livetalking.media.litert_model import TFLiteModel, base_model_path


class PersonSegmenter:
    """person_mask(frame) -> (H, W) float32 probability that the pixel shows a person."""

    def __init__(self, models_root: Path, threads: int = 2):
        self.model = TFLiteModel(base_model_path(models_root, "selfie_segmentation"), threads)

    def person_mask(self, frame: np.ndarray, full_resolution: bool = True) -> np.ndarray:
        """The probability at the frame's size, or (full_resolution=False) at the model's 256 x 256."""
        height, width = frame.shape[:2]
        size_h, size_w = self.model.input_size
        tensor = cv2.resize(frame, (size_w, size_h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        (mask,) = self.model(tensor[None])  # (1, 256, 256, 1)
        if not full_resolution:
            return mask[0, :, :, 0]
        return cv2.resize(mask[0, :, :, 0], (width, height), interpolation=cv2.INTER_LINEAR)
