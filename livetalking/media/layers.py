"""Layered masks from the chroma alpha, the person segmentation and the face mesh.

Definitions (all (H, W) float32 in 0..1, each layer within `person`):
- person: the chroma alpha (0 outside the picture area), repaired by the segmentation: where the
  segmenter is sure of a person (p >= 0.9) well inside its mask the alpha is raised to 1 (clothes or
  eyes near the key colour); where it is sure of no person (p <= 0.05) well outside, the alpha
  drops to 0 (stands, cables).
- face: the filled face oval of the mesh (forehead to chin), times person.
- hair: person outside the face, inside the head zone (the face oval grown 1.8x about its centre
  horizontally and 2.0x vertically, which reaches about half a face height above the hairline),
  above the chin. Hair that falls below the chin counts as body.
- body (shoulders and body): person minus face minus hair.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from livetalking.media.face_regions import CHIN, FACE_OVAL

SURE_PERSON, SURE_BACKDROP = 0.9, 0.05
MARGIN_FRACTION = 0.02


@dataclass(frozen=True)
class Layers:
    person: np.ndarray
    face: np.ndarray
    hair: np.ndarray
    body: np.ndarray


def repair_with_segmentation(alpha: np.ndarray, person_probability: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Fix the chroma alpha where colour alone is wrong and the segmenter is sure, away from the edges.

    `person_probability` may be at the segmenter's own (lower) resolution; `inside` is the picture
    area at full resolution: bars stay transparent whatever the segmenter thinks.
    """
    height, width = alpha.shape
    low_h, low_w = person_probability.shape
    margin = max(1, int(min(low_h, low_w) * MARGIN_FRACTION))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    low_res = person_probability.shape != alpha.shape
    force = np.zeros((low_h, low_w), np.uint8)
    force[cv2.erode((person_probability >= SURE_PERSON).astype(np.uint8), kernel).astype(bool)] = 1
    force[cv2.erode((person_probability <= SURE_BACKDROP).astype(np.uint8), kernel).astype(bool)] = 2
    if low_res:
        force = cv2.resize(force, (width, height), interpolation=cv2.INTER_NEAREST)
    repaired = np.where(force == 1, np.float32(1.0), alpha)
    return np.where((force == 2) | ~inside, np.float32(0.0), repaired).astype(np.float32, copy=False)


def _polygon_mask(points: np.ndarray, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1.0, lineType=cv2.LINE_AA)
    return mask


def build_layers(person: np.ndarray, landmarks: np.ndarray | None) -> Layers:
    """Split the person matte into face, hair and body; without a face everything is body."""
    height, width = person.shape
    if landmarks is None:
        zero = np.zeros_like(person)
        return Layers(person, zero, zero.copy(), person.copy())
    oval = landmarks[list(FACE_OVAL), :2]
    face = _polygon_mask(oval, height, width) * person
    centre = oval.mean(0)
    head_zone = _polygon_mask(centre + (oval - centre) * np.array([1.8, 2.0]), height, width)
    head_zone[int(max(0, landmarks[CHIN, 1])):] = 0.0
    hair = np.clip(head_zone * person - face, 0.0, 1.0)
    body = np.clip(person - face - hair, 0.0, 1.0)
    return Layers(person, face, hair, body)
