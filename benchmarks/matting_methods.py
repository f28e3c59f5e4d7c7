"""Why the key pulls alpha from the green excess against a clean plate: error against known alpha, side by side
with a soft key on the colour distance in CIELAB (a*, b*) to the key colour, on the test composites."""

import cv2
import numpy as np

from benchmarks.table import print_table
from livetalking.media.chroma_key import KeyModel, estimate_key
from livetalking.media.matting import matte
from livetalking.media.matte_refine import refine_edges, repair_alpha
from tests.fixtures.composite import composite, green_backdrop, subject_alpha
from tests.fixtures.media import decode_frames, shared


def lab_distance_alpha(frame: np.ndarray, model: KeyModel) -> np.ndarray:
    """Soft key on the a*b* distance to the key colour: 0 within 3 spreads of the backdrop's distances, 1 beyond
    the distance where half the way to the key's chroma magnitude is reached."""
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    key = cv2.cvtColor(np.uint8([[np.round(np.array(model.key_rgb) * 255)]]), cv2.COLOR_RGB2LAB)[0, 0].astype(
        np.float32)
    distance = np.hypot(lab[..., 1] - key[1], lab[..., 2] - key[2])
    inner = np.percentile(distance, 20) * 3 + 2
    outer = inner + 0.5 * np.hypot(key[1] - 128, key[2] - 128)
    alpha = np.clip((distance - inner) / (outer - inner), 0, 1).astype(np.float32)
    alpha = repair_alpha(alpha, model.area.mask(*alpha.shape))
    return refine_edges(frame, alpha)


def main() -> None:
    rows = []
    for source, dark in (("talking_face_3.mp4", 1.0), ("talking_face_3.mp4", 0.55), ("talking_face_1.mp4", 1.0)):
        frames = decode_frames(shared(source))
        errors = {"green excess / clean plate (used)": [], "CIELAB a*b* distance": []}
        for index, frame in enumerate(frames[:: max(1, len(frames) // 4)][:4]):
            height, width, _ = frame.shape
            truth = subject_alpha(height, width, sway=0.04 * np.sin(index), seed=index)
            sample = composite(frame, truth, green_backdrop(height, width, seed=index, dark=dark))
            model = estimate_key([sample.image])
            for name, estimate in (("green excess / clean plate (used)", matte(sample.image, model)),
                                   ("CIELAB a*b* distance", lab_distance_alpha(sample.image, model))):
                errors[name].append((np.abs(estimate - truth).sum() / 1000 / (height * width / 1e6),
                                     float(((estimate - truth) ** 2).mean())))
        for name, values in errors.items():
            rows.append([f"{source} dark={dark}", name, np.mean([v[0] for v in values]),
                         np.mean([v[1] for v in values])])
    print_table("matting error against known alpha (lower is better)",
                ["composite", "alpha from", "SAD per Mpx (x1000)", "MSE"], rows)


if __name__ == "__main__":
    main()
