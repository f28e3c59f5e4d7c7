"""Keying real green-screen footage and known-alpha composites; despill; letterbox bars."""

import numpy as np
import pytest

from livetalking.media.chroma_key import despill, estimate_key, green_excess
from livetalking.media.letterbox import detect_active_area
from livetalking.media.matting import matte
from tests.fixtures.composite import composite, green_backdrop, subject_alpha
from tests.fixtures.media import decode_frames, shared


@pytest.fixture(scope="module")
def man():
    return decode_frames(shared("greenscreen_man_noaudio.mp4"))


@pytest.fixture(scope="module")
def child():
    return decode_frames(shared("greenscreen_child_speech.mp4"))


# (x, y) points checked by eye on the first frame: face and backdrop.
MAN_FACE = [(256, 170), (256, 260), (200, 300), (310, 300), (256, 400)]
MAN_BACKDROP = [(10, 10), (500, 10), (30, 250), (480, 250)]
CHILD_FACE = [(256, 300), (200, 330), (310, 330), (256, 230)]
CHILD_BACKDROP = [(10, 10), (500, 10), (25, 150), (490, 150)]


@pytest.mark.parametrize("clip,face,backdrop", [("man", MAN_FACE, MAN_BACKDROP),
                                                ("child", CHILD_FACE, CHILD_BACKDROP)])
def test_real_footage_keys_face_opaque_and_backdrop_clear(request, clip, face, backdrop):
    frames = request.getfixturevalue(clip)
    model = estimate_key(frames[::10])
    alpha = matte(frames[0], model)
    assert [round(float(alpha[y, x]), 3) for x, y in face] == [1.0] * len(face)
    assert [round(float(alpha[y, x]), 3) for x, y in backdrop] == [0.0] * len(backdrop)
    subject = (alpha > 0.5).mean()
    assert 0.25 < subject < 0.7


def test_the_letterbox_bar_is_found_and_keyed_out(man):
    area = detect_active_area(man[::10])
    assert (area.top, area.left, area.right) == (0, 0, 512)
    assert 478 <= area.bottom <= 490
    model = estimate_key(man[::10])
    alpha = matte(man[0], model)
    assert alpha[area.bottom:].max() == 0.0
    assert alpha[area.bottom - 5, 250] == 1.0


def test_the_uneven_dark_backdrop_is_still_detected_as_green(child):
    model = estimate_key(child[::10])
    r, g, b = model.key_rgb
    assert g > r and g > b and model.key_excess > 0.05
    assert model.area.bottom == 512


def test_despilled_edges_carry_no_green(man, child):
    for frames in (man, child):
        model = estimate_key(frames[::10])
        frame = frames[0]
        alpha = matte(frame, model)
        edge = (alpha > 0.05) & (alpha < 0.95)
        assert edge.sum() > 500
        before = green_excess(frame.astype(np.float32)[edge])
        after = green_excess(despill(frame).astype(np.float32)[edge])
        assert before.max() > 10
        assert after.max() <= 0


@pytest.mark.parametrize("source,dark", [("talking_face_3.mp4", 1.0), ("talking_face_3.mp4", 0.55),
                                         ("talking_face_1.mp4", 1.0)])
def test_matting_accuracy_against_known_alpha(source, dark):
    frames = decode_frames(shared(source))
    errors = []
    for index, frame in enumerate(frames[:: max(1, len(frames) // 4)][:4]):
        height, width, _ = frame.shape
        truth = subject_alpha(height, width, sway=0.04 * np.sin(index), seed=index)
        sample = composite(frame, truth, green_backdrop(height, width, seed=index, dark=dark))
        model = estimate_key([sample.image])
        estimate = matte(sample.image, model)
        sad = float(np.abs(estimate - truth).sum()) / 1000.0
        mse = float(((estimate - truth) ** 2).mean())
        errors.append((sad, mse, height * width))
    sad_per_megapixel = np.mean([sad / (pixels / 1e6) for sad, _, pixels in errors])
    mean_mse = np.mean([mse for _, mse, _ in errors])
    print(f"{source} dark={dark}: SAD {sad_per_megapixel:.2f} per megapixel (x1000), MSE {mean_mse:.5f}")
    assert mean_mse < 0.004
    assert sad_per_megapixel < 12.0
