"""Face detection, mesh tracking, smoothing, aligned crops and layered masks on real footage; faces missing,
doubled or leaving the frame."""

from pathlib import Path

import numpy as np
import pytest

from livetalking.errors import MissingBaseModel
from livetalking.media.chroma_key import estimate_key
from livetalking.media.face_align import CROP_SIZES, crop_transform, paste_back, warp_crop
from livetalking.media.face_detection import FaceDetector
from livetalking.media.face_regions import NOSE_TIP, mouth_centre
from livetalking.media.face_tracking import FaceTracker
from livetalking.media.layers import build_layers, repair_with_segmentation
from livetalking.media.matting import matte
from livetalking.media.segmentation import PersonSegmenter
from tests.fixtures.media import decode_frames, green_person_frames, shared

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def clips():
    return {name: decode_frames(shared(f"greenscreen_{name}.mp4")) for name in ("man_noaudio", "child_speech")}


@pytest.fixture(scope="module")
def tracked(clips):
    result = {}
    for name, frames in clips.items():
        tracker = FaceTracker(MODELS, fps=25)
        result[name] = [tracker(f) for f in frames]
    return result


def test_the_face_is_found_in_every_frame_and_lies_inside_the_matte(clips, tracked):
    for name, frames in clips.items():
        observations = tracked[name]
        assert all(o.landmarks is not None and o.presence > 0.9 for o in observations), name
        model = estimate_key(frames[::10])
        for index in (0, len(frames) // 2, len(frames) - 1):
            alpha = matte(frames[index], model)
            for x, y in (observations[index].landmarks[NOSE_TIP, :2], mouth_centre(observations[index].landmarks)):
                assert alpha[int(round(y)), int(round(x))] == 1.0, (name, index)


def test_a_still_head_gives_still_landmarks():
    frame = decode_frames(shared("greenscreen_man_noaudio.mp4"))[0]
    rng = np.random.default_rng(0)
    tracker = FaceTracker(MODELS, fps=25)
    noisy = [np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    observations = [tracker(f) for f in noisy]
    smoothed = np.array([mouth_centre(o.landmarks) for o in observations[10:]])
    raw = np.array([mouth_centre(o.raw_landmarks) for o in observations[10:]])
    assert smoothed.std(axis=0).max() < 0.25
    assert smoothed.std(axis=0).max() < raw.std(axis=0).max()


def test_crops_keep_the_mouth_in_place_over_a_still_segment(clips, tracked):
    observations = tracked["man_noaudio"]
    nose = np.array([o.raw_landmarks[NOSE_TIP, :2] for o in observations])
    motion = np.linalg.norm(np.diff(nose, axis=0), axis=1)
    window = 12
    start = int(np.argmin(np.convolve(motion, np.ones(window - 1), mode="valid")))
    for size in CROP_SIZES:
        centres = []
        for o in observations[start:start + window]:
            transform = crop_transform(o.landmarks, size)
            centres.append(mouth_centre(o.landmarks) @ transform[:, :2].T + transform[:, 2])
        centres = np.array(centres)
        assert np.abs(centres - centres.mean(0)).max() < 2.0, size
        assert np.abs(centres.mean(0) - np.array([0.5, 0.72]) * size).max() < 0.05 * size


def test_paste_back_inverts_the_crop(clips, tracked):
    frame = clips["man_noaudio"][0]
    landmarks = tracked["man_noaudio"][0].landmarks
    transform = crop_transform(landmarks, 256)
    crop = warp_crop(frame, transform, 256)
    mask = np.zeros((256, 256), np.float32)
    mask[96:240, 48:208] = 1.0  # the lower face, mouth included
    restored = paste_back(np.zeros_like(frame), crop, transform, mask)
    centre = mouth_centre(landmarks).round().astype(int)
    patch = (slice(centre[1] - 10, centre[1] + 10), slice(centre[0] - 10, centre[0] + 10))
    assert np.abs(restored[patch].astype(int) - frame[patch].astype(int)).mean() < 6


def test_layers_nest_inside_the_person(clips, tracked):
    segmenter = PersonSegmenter(MODELS)
    for name, frames in clips.items():
        model = estimate_key(frames[::10])
        frame, observation = frames[0], tracked[name][0]
        person = repair_with_segmentation(matte(frame, model), segmenter.person_mask(frame),
                                          model.area.mask(*frame.shape[:2]))
        layers = build_layers(person, observation.landmarks)
        for layer in (layers.face, layers.hair, layers.body):
            assert np.all(layer <= layers.person + 1e-6), name
        assert np.allclose(layers.face + layers.hair + layers.body, layers.person, atol=1e-5)
        x, y = observation.landmarks[NOSE_TIP, :2].round().astype(int)
        assert layers.face[y, x] == 1.0 and layers.body[-40, frame.shape[1] // 2] > 0.5
        assert person[model.area.bottom:].max(initial=0.0) == 0.0


def test_no_face_gives_no_landmarks_and_no_crash():
    tracker = FaceTracker(MODELS, fps=25)
    observations = [tracker(f) for f in green_person_frames(640, 480, 5)]
    assert all(o.landmarks is None and o.faces_detected == 0 for o in observations)


def test_two_faces_are_both_detected():
    left = decode_frames(shared("greenscreen_man_noaudio.mp4"))[0]
    right = decode_frames(shared("talking_face_3.mp4"))[0][:512, :512]
    assert len(FaceDetector(MODELS).detect(np.concatenate([left, right], axis=1))) == 2


def test_a_face_leaving_the_frame_is_lost_cleanly():
    frame = decode_frames(shared("greenscreen_man_noaudio.mp4"))[0]
    tracker = FaceTracker(MODELS, fps=25)
    observations = []
    for shift in range(0, 520, 20):
        moved = np.zeros_like(frame)
        moved[:, shift:] = frame[:, : frame.shape[1] - shift]
        observations.append(tracker(moved))
    assert observations[0].landmarks is not None
    assert observations[-1].landmarks is None
    assert all(o.landmarks is None for o in observations[-3:])


def test_a_missing_base_model_names_the_folder(tmp_path):
    with pytest.raises(MissingBaseModel) as raised:
        FaceDetector(tmp_path)
    assert raised.value.code == "base_model.missing" and "face_detection_short_range.tflite" in raised.value.message
