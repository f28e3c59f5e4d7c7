"""Write a rendered talking video with its sound: MP4 (H.264 + AAC), or WebM (VP9 with alpha + Opus) for RGBA.

Video frame k is stamped k / fps and audio sample n at n / rate from one origin, so picture and sound
start together; audio is fed in 20 ms frames as the video advances (bounded memory for long renders).
"""

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

AUDIO_FRAME_S = 0.02


class TalkingVideoWriter:
    """write(frame) RGB (H, W, 3) or RGBA (H, W, 4) uint8 frames in order; the audio is muxed alongside."""

    def __init__(self, path: Path, fps: float, audio: np.ndarray, sample_rate: int, transparent: bool = False):
        self.transparent = transparent
        self.fps = Fraction(fps).limit_denominator(1001)
        self.container = av.open(str(path), mode="w", format="webm" if transparent else "mp4")
        self.video = None
        rate = 48000 if transparent else sample_rate
        self.audio_stream = self.container.add_stream("libopus" if transparent else "aac", rate=rate, layout="mono")
        self.resampler = av.AudioResampler(format=self.audio_stream.codec_context.format.name, layout="mono",
                                           rate=rate)
        self.audio, self.sample_rate, self.audio_sent, self.frames = audio.astype(np.float32), sample_rate, 0, 0

    def _open_video(self, frame: np.ndarray) -> None:
        self.video = self.container.add_stream("libvpx-vp9" if self.transparent else "libx264", rate=self.fps)
        self.video.height, self.video.width = frame.shape[:2]
        if self.transparent:
            self.video.pix_fmt = "yuva420p"
            self.video.options = {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8"}
        else:
            self.video.pix_fmt = "yuv420p"
            self.video.options = {"crf": "20", "preset": "veryfast"}

    def _send_audio(self, until_s: float | None) -> None:
        stop = len(self.audio) if until_s is None else min(len(self.audio), int(round(until_s * self.sample_rate)))
        step = int(round(AUDIO_FRAME_S * self.sample_rate))
        while self.audio_sent < stop:
            piece = self.audio[self.audio_sent:min(stop, self.audio_sent + step)]
            frame = av.AudioFrame.from_ndarray(piece[None], format="flt", layout="mono")
            frame.sample_rate, frame.pts = self.sample_rate, self.audio_sent
            frame.time_base = Fraction(1, self.sample_rate)
            self.audio_sent += len(piece)
            for converted in self.resampler.resample(frame):
                self.container.mux(self.audio_stream.encode(converted))

    def write(self, frame: np.ndarray) -> None:
        if self.video is None:
            self._open_video(frame)
        layout = "rgba" if self.transparent else "rgb24"
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=layout)
        picture.pts = self.frames
        picture.time_base = 1 / self.fps
        for packet in self.video.encode(picture):
            self.container.mux(packet)
        self.frames += 1
        self._send_audio(self.frames / float(self.fps))

    def close(self) -> None:
        self._send_audio(None)
        for converted in self.resampler.resample(None):
            self.container.mux(self.audio_stream.encode(converted))
        self.container.mux(self.audio_stream.encode(None))
        if self.video is not None:
            for packet in self.video.encode():
                self.container.mux(packet)
        self.container.close()


def write_talking_video(path: Path, frames: Iterable[np.ndarray], fps: float, audio: np.ndarray, sample_rate: int,
                        transparent: bool = False) -> int:
    """Encode `frames` with `audio` into `path`; returns the frame count. A failure removes the partial file."""
    writer = TalkingVideoWriter(path, fps, audio, sample_rate, transparent)
    try:
        for frame in frames:
            writer.write(frame)
    except BaseException:
        writer.container.close()
        path.unlink(missing_ok=True)
        raise
    writer.close()
    return writer.frames
