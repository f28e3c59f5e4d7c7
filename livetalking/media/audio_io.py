"""Audio decoding and conversion with PyAV."""

from pathlib import Path

import av
import numpy as np

from livetalking.errors import InvalidInput


def normalise_wav(src: Path, dst: Path, sample_rate: int) -> None:
    """Decode any audio file and write it as 16-bit mono PCM WAV at `sample_rate`."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    try:
        with av.open(str(src)) as inp, av.open(str(dst), mode="w", format="wav") as out:
            stream = out.add_stream("pcm_s16le", rate=sample_rate, layout="mono")
            for frame in inp.decode(audio=0):
                for converted in resampler.resample(frame):
                    out.mux(stream.encode(converted))
            for converted in resampler.resample(None):
                out.mux(stream.encode(converted))
            out.mux(stream.encode(None))
    except av.error.FFmpegError as e:
        dst.unlink(missing_ok=True)
        raise InvalidInput(f"the audio cannot be decoded: {e}", code="take.unreadable") from e


def decode_audio(path: Path, sample_rate: int, stream_index: int = 0) -> np.ndarray:
    """The first audio stream (or `stream_index`) as mono float32 in -1..1 at `sample_rate`."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    chunks = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return np.zeros(0, np.float32)
            for frame in container.decode(audio=stream_index):
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    except av.error.FFmpegError as e:
        raise InvalidInput(f"the audio cannot be decoded: {e}", code="take.unreadable") from e
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Mono float audio in -1..1 as a 16-bit PCM WAV file."""
    with av.open(str(path), mode="w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        samples = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float audio at another sample rate (polyphase, anti-aliased)."""
    if from_rate == to_rate:
        return np.asarray(audio, np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    return resample_poly(audio, to_rate // g, from_rate // g).astype(np.float32)


def wav_header(rate: int, data_bytes: int | None = None) -> bytes:
    """The 44-byte header of 16-bit mono PCM WAV; without a length (streaming) the sizes read 0xFFFFFFFF."""
    import struct

    size = 0xFFFFFFFF if data_bytes is None else data_bytes
    riff = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", riff, b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16,
                       b"data", size)


def pcm16(audio: np.ndarray) -> bytes:
    """Float audio in -1..1 as little-endian 16-bit samples."""
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    """A whole 16-bit mono PCM WAV file in memory."""
    data = pcm16(audio)
    return wav_header(rate, len(data)) + data
