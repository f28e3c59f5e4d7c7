"""Still images (PNG, JPEG) with PyAV: the size from the header, the pixels as RGB, scaled to cover a frame."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from livetalking.errors import InvalidInput

MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an image file declares."""

    codec: str
    width: int
    height: int


def _unreadable(reason: str) -> InvalidInput:
    return InvalidInput(f"the file cannot be read as an image: {reason}", code="take.bad_image",
                        details={"rule": "a PNG or JPEG that decodes", "measured": reason})


@contextmanager
def _opened(path: Path) -> Iterator[av.container.InputContainer]:
    """The file opened as an image with a size; one over MAX_PIXELS is refused while probing, before it is decoded."""
    try:
        container = av.open(str(path), mode="r", options={"max_pixels": str(MAX_PIXELS)})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise _unreadable(str(e)) from e
    with container:
        if not container.streams.video:
            raise _unreadable("no picture in the file")
        codec = container.streams.video[0].codec_context
        if codec.width == 0 or codec.height == 0:
            raise _unreadable(f"it does not decode, or it has more than {MAX_SIDE} x {MAX_SIDE} pixels")
        yield container


def probe_image(path: Path) -> ImageInfo:
    """The codec and size of the image."""
    with _opened(path) as container:
        codec = container.streams.video[0].codec_context
        return ImageInfo(codec=codec.name, width=codec.width, height=codec.height)


def read_image(path: Path) -> np.ndarray:
    """The first picture of the file as RGB (H, W, 3) uint8; alpha is dropped."""
    with _opened(path) as container:
        try:
            frame = next(container.decode(video=0), None)
        except av.error.FFmpegError as e:
            raise _unreadable(str(e)) from e
        if frame is None:
            raise _unreadable("no picture decodes")
        return frame.to_ndarray(format="rgb24")


def cover(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The image scaled to cover height x width with its aspect kept, centre-cropped: (height, width, 3)."""
    rows, cols = image.shape[:2]
    scale = max(height / rows, width / cols)
    size = (max(width, round(cols * scale)), max(height, round(rows * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width])
