"""The CPU matting chain for one frame: pull the key, repair the matte, refine its edges, keep bars transparent."""

import numpy as np

from livetalking.media.chroma_key import KeyModel, pull_alpha
from livetalking.media.matte_refine import refine_edges, repair_alpha


def matte(frame: np.ndarray, model: KeyModel) -> np.ndarray:
    """(H, W) float32 alpha of an RGB uint8 frame."""
    inside = model.area.mask(*frame.shape[:2])
    alpha = repair_alpha(pull_alpha(frame, model), inside)
    alpha = refine_edges(frame, alpha)
    alpha[~inside] = 0.0
    return alpha
