"""Read frames from and write frames to video files with PyAV (H.264 for pictures, lossless FFV1 for mattes)."""

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from livetalking.errors import InvalidInput


def iter_frames(path: Path, start: int = 0, count: int | None = None) -> Iterator[np.ndarray]:
    """RGB uint8 frames start .. start + count - 1 (by decode order of a constant-frame-rate stream)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = stream.average_rate or stream.guessed_rate
            if start > 0:
                container.seek(int(start / rate / stream.time_base), stream=stream, backward=True)
            produced = 0
            for frame in container.decode(stream):
                index = round(float(frame.pts * stream.time_base * rate)) if frame.pts is not None else start
                if index < start:
                    continue
                yield frame.to_ndarray(format="rgb24")
                produced += 1
                if count is not None and produced >= count:
                    return
    except av.error.FFmpegError as e:
        raise InvalidInput(f"the video cannot be decoded: {e}", code="take.video.undecodable") from e


def frame_count(path: Path) -> tuple[int, float]:
    """(frames, fps) of the first video stream, counted from its packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for packet in container.demux(stream) if packet.size > 0)
        return count, float(stream.average_rate or stream.guessed_rate)


class VideoWriter:
    """Append RGB (3-channel) or grey (2-D) uint8 frames; H.264 (crf 18) or lossless FFV1 (Matroska).

    x264's ultrafast preset: at 1280x720 it encodes in 7.8 ms/frame against 21.8 ms for veryfast, for
    files about 2.4 times larger at the same quality target (measured on the real green-screen clip).
    """

    def __init__(self, path: Path, fps: float, lossless: bool = False):
        self.path, self.fps, self.lossless = path, Fraction(fps).limit_denominator(1001), lossless
        self.container = av.open(str(path), mode="w", format="matroska" if lossless else "mp4")
        self.stream = None

    def _open_stream(self, frame: np.ndarray) -> None:
        grey = frame.ndim == 2
        self.stream = self.container.add_stream("ffv1" if self.lossless else "libx264", rate=self.fps)
        self.stream.height, self.stream.width = frame.shape[:2]
        if self.lossless:
            self.stream.pix_fmt = "gray" if grey else "bgr0"
        else:
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = {"crf": "18", "preset": "ultrafast"}
        self.grey = grey

    def write(self, frame: np.ndarray) -> None:
        if self.stream is None:
            self._open_stream(frame)
        if self.grey:
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="gray")
        else:
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self.stream.encode(video_frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self.stream is not None:
            for packet in self.stream.encode():
                self.container.mux(packet)
        self.container.close()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
