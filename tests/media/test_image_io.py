"""Still images: decoded as RGB from OpenCV-written files, scaled to cover a frame with the aspect kept."""

import cv2
import numpy as np
import pytest

from livetalking.errors import InvalidInput
from livetalking.media.image_io import cover, probe_image, read_image
from tests.fixtures.media import write_picture

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def _bands(height: int, width: int) -> np.ndarray:
    """RGB, left to right: a green quarter, a red quarter, a blue quarter, a green quarter."""
    image = np.zeros((height, width, 3), np.uint8)
    for k, colour in enumerate((GREEN, RED, BLUE, GREEN)):
        image[:, k * width // 4:(k + 1) * width // 4] = colour
    return image


@pytest.mark.parametrize("name", ["picture.png", "picture.jpg"])
def test_a_picture_reads_back_as_rgb(tmp_path, name):
    path = write_picture(tmp_path / name, 80, 120)
    image = read_image(path)
    info = probe_image(path)
    assert image.shape == (80, 120, 3) and (info.width, info.height) == (120, 80)
    assert np.abs(image[40, 10].astype(int) - RED).max() < 8
    assert np.abs(image[40, 110].astype(int) - BLUE).max() < 8


def test_alpha_is_dropped_and_a_broken_file_is_refused(tmp_path):
    path = tmp_path / "rgba.png"
    assert cv2.imwrite(str(path), np.full((70, 70, 4), (0, 0, 255, 40), np.uint8))
    assert read_image(path)[0, 0].tolist() == list(RED)
    broken = tmp_path / "broken.png"
    broken.write_bytes(path.read_bytes()[:30])
    with pytest.raises(InvalidInput) as error:
        read_image(broken)
    assert error.value.code == "take.bad_image"


@pytest.mark.parametrize("height,width", [(64, 64), (512, 512), (48, 96)])
def test_cover_fills_the_frame_and_crops_the_overhang_evenly(height, width):
    wide = cover(_bands(100, 200), height, width)  # a 2:1 picture: the green quarters overhang a square
    assert wide.shape == (height, width, 3)
    if height == width:
        edge = width // 16  # interpolation blends a few pixels at the band borders
        assert np.abs(wide[:, edge:width // 2 - edge].astype(int) - RED).max() < 8
        assert np.abs(wide[:, width // 2 + edge:-edge].astype(int) - BLUE).max() < 8
    else:
        assert np.array_equal(wide, cv2.resize(_bands(100, 200), (width, height), interpolation=cv2.INTER_AREA))
    tall = cover(_bands(100, 200).transpose(1, 0, 2), width, height)  # the same, turned: overhang top and bottom
    assert np.abs(tall.astype(int) - wide.transpose(1, 0, 2)).max() <= 1  # rounding differs along the axes
