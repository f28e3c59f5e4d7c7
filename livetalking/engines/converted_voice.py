"""The offline cloned voice: the bundled base voice speaks, and each sentence is converted to the person.

Per sentence: WORLD analysis of the base speech, the spectral mapper on the coded envelope, a
frequency warp of the result (the formant scale chosen when cloning), the log-f0 moved from the
base voice's statistics to the person's, WORLD synthesis. Sentences stream
as they are converted, cut into 20 ms chunks on one clock.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from livetalking.engines.base import AudioChunk, rechunk
from livetalking.engines.piper_engine import PiperEngine
from livetalking.media.audio_io import resample
from livetalking.media.world_vocoder import WorldFrames, analyze, synthesize, transform_f0, warp_envelope

PEAK = 0.95

Mapper = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PitchStats:
    """(mean, std) of voiced log f0 for the base voice and the person."""

    source: tuple[float, float]
    target: tuple[float, float]


def convert(audio: np.ndarray, rate: int, mapper: Mapper, pitch: PitchStats, warp: float = 1.0) -> np.ndarray:
    """Base-voice speech at `rate` -> the same words in the person's voice (float32, peak limited)."""
    if len(audio) < rate // 50:
        return np.zeros(0, np.float32)
    frames = analyze(audio, rate)
    mapped = WorldFrames(f0=transform_f0(frames.f0, pitch.source, pitch.target),
                         coded_sp=warp_envelope(np.asarray(mapper(frames.coded_sp.astype(np.float32)), np.float64),
                                                rate, warp),
                         coded_ap=frames.coded_ap, rate=rate)
    out = synthesize(mapped)
    peak = float(np.abs(out).max()) if out.size else 0.0
    return out * (PEAK / peak) if peak > PEAK else out


class ConvertedVoiceEngine:
    """synthesize(text) / stream(text) in a cloned voice at `sample_rate`."""

    def __init__(self, mapper: Mapper, pitch: PitchStats, sample_rate: int, base: PiperEngine | None = None,
                 warp: float = 1.0):
        self.mapper, self.pitch, self.sample_rate, self.warp = mapper, pitch, sample_rate, warp
        self.base = base or PiperEngine()

    def _sentences(self, text: str) -> Iterator[np.ndarray]:
        for piece in self.base.sentences(text):
            spoken = resample(piece, self.base.sample_rate, self.sample_rate)
            yield convert(spoken, self.sample_rate, self.mapper, self.pitch, self.warp)

    def synthesize(self, text: str) -> np.ndarray:
        pieces = list(self._sentences(text))
        return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)

    def stream(self, text: str) -> Iterator[AudioChunk]:
        return rechunk(self._sentences(text), self.sample_rate)
