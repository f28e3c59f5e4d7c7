"""Probe media files with PyAV: container, codec, geometry, timing, and the frame timestamps."""

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from livetalking.errors import InvalidInput


@dataclass(frozen=True)
class VideoInfo:
    """What the video stream of a file declares and what its packets show."""

    container: str
    codec: str
    width: int
    height: int
    fps: float
    duration_s: float
    frame_count: int
    frame_interval_spread: float
    declared_duration_s: float
    has_audio: bool

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


@dataclass(frozen=True)
class AudioInfo:
    """What the first audio stream of a file declares."""

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise InvalidInput(f"the file cannot be read as media: {e}", code="take.unreadable") from e


def probe_video(path: Path) -> VideoInfo:
    """Probe the first video stream; reads every packet header (not the pixels) to time the frames."""
    with _open(path) as container:
        if not container.streams.video:
            raise InvalidInput("the file has no video stream", code="take.video.no_video_stream",
                               details={"rule": "video stream present", "measured": 0})
        stream = container.streams.video[0]
        times = []
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size > 0:
                    times.append(float(packet.pts * packet.time_base))
        except av.error.FFmpegError as e:
            raise InvalidInput(f"the video stream is damaged: {e}", code="take.unreadable") from e
        if len(times) < 2:
            raise InvalidInput("the video stream holds fewer than two frames", code="take.unreadable",
                               details={"measured": len(times)})
        times_arr = np.sort(np.asarray(times))
        intervals = np.diff(times_arr)
        median = float(np.median(intervals))
        fps = 1.0 / median if median > 0 else 0.0
        spread = float(np.max(np.abs(intervals - median)) / median) if median > 0 else float("inf")
        declared = float(container.duration / av.time_base) if container.duration else 0.0
        ctx = stream.codec_context
        return VideoInfo(
            container=container.format.name,
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            fps=fps,
            duration_s=float(times_arr[-1] - times_arr[0] + median),
            frame_count=len(times),
            frame_interval_spread=spread,
            declared_duration_s=declared,
            has_audio=bool(container.streams.audio),
        )


def probe_audio(path: Path) -> AudioInfo:
    """Probe the first audio stream."""
    with _open(path) as container:
        if not container.streams.audio:
            raise InvalidInput("the file has no audio stream", code="take.audio.no_audio_stream",
                               details={"rule": "audio stream present", "measured": 0})
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = float(container.duration / av.time_base)
        else:
            duration = 0.0
        return AudioInfo(
            container=container.format.name,
            codec=ctx.name,
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            duration_s=duration,
        )


def sample_frames(path: Path, count: int, max_side: int = 640) -> list[np.ndarray]:
    """Decode `count` frames spread over the video as RGB uint8 arrays (downscaled to max_side)."""
    frames: list[np.ndarray] = []
    with _open(path) as container:
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        targets = np.linspace(0.0, max(duration - 0.5, 0.0), count) if duration > 1 else [0.0]
        try:
            for target in targets:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
                frame = next(container.decode(stream), None)
                if frame is None:
                    break
                scale = max_side / max(frame.width, frame.height)
                if scale < 1:
                    frame = frame.reformat(width=int(frame.width * scale) // 2 * 2,
                                           height=int(frame.height * scale) // 2 * 2)
                frames.append(frame.to_ndarray(format="rgb24"))
        except av.error.FFmpegError as e:
            raise InvalidInput(f"the video cannot be decoded: {e}", code="take.video.undecodable") from e
    if not frames:
        raise InvalidInput("no frame of the video could be decoded", code="take.video.undecodable")
    return frames
