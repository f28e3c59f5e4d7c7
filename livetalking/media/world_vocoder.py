"""WORLD analysis and synthesis (pyworld): f0, a coded spectral envelope and coded aperiodicity per 10 ms frame.

The spectral envelope is coded to `SP_DIMS` mel-cepstrum-like coefficients (pyworld's
code_spectral_envelope), which is what the voice converter maps from one speaker to another; f0 is
transformed separately and the aperiodicity of the source is kept.
"""

from dataclasses import dataclass

import numpy as np

FRAME_MS = 10.0
SP_DIMS = 40
F0_FLOOR = 60.0
F0_CEIL = 600.0


@dataclass(frozen=True)
class WorldFrames:
    """One utterance in WORLD's parameters; every array has one row per frame."""

    f0: np.ndarray
    coded_sp: np.ndarray
    coded_ap: np.ndarray
    rate: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0


def _pyworld():
    import pyworld

    return pyworld


def analyze(audio: np.ndarray, rate: int) -> WorldFrames:
    """WORLD parameters of mono float audio (dio + stonemask f0, cheaptrick envelope, d4c aperiodicity)."""
    pw = _pyworld()
    x = np.ascontiguousarray(audio, dtype=np.float64)
    f0, times = pw.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, times, rate)
    sp = pw.cheaptrick(x, f0, times, rate, f0_floor=F0_FLOOR)
    ap = pw.d4c(x, f0, times, rate)
    return WorldFrames(f0=f0, coded_sp=pw.code_spectral_envelope(sp, rate, SP_DIMS),
                       coded_ap=pw.code_aperiodicity(ap, rate), rate=rate)


def synthesize(frames: WorldFrames) -> np.ndarray:
    """Float32 audio from WORLD parameters."""
    pw = _pyworld()
    fft_size = pw.get_cheaptrick_fft_size(frames.rate, F0_FLOOR)
    sp = pw.decode_spectral_envelope(np.ascontiguousarray(frames.coded_sp, np.float64), frames.rate, fft_size)
    ap = pw.decode_aperiodicity(np.ascontiguousarray(frames.coded_ap, np.float64), frames.rate, fft_size)
    audio = pw.synthesize(np.ascontiguousarray(frames.f0, np.float64), sp, ap, frames.rate, FRAME_MS)
    return audio.astype(np.float32)


def warp_envelope(coded_sp: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Coded envelopes with their frequency axis stretched by `factor` (> 1 moves formants up)."""
    if factor == 1.0:
        return coded_sp
    pw = _pyworld()
    fft_size = pw.get_cheaptrick_fft_size(rate, F0_FLOOR)
    sp = pw.decode_spectral_envelope(np.ascontiguousarray(coded_sp, np.float64), rate, fft_size)
    source = np.clip(np.arange(sp.shape[1]) / factor, 0, sp.shape[1] - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, sp.shape[1] - 1)
    share = source - low
    warped = sp[:, low] * (1 - share) + sp[:, high] * share
    return pw.code_spectral_envelope(np.ascontiguousarray(warped), rate, coded_sp.shape[1])


def log_f0_stats(f0: np.ndarray) -> tuple[float, float]:
    """(mean, std) of log f0 over voiced frames."""
    voiced = np.log(f0[f0 > 0])
    if voiced.size < 2:
        raise ValueError("too few voiced frames to measure the pitch")
    return float(voiced.mean()), float(voiced.std())


def transform_f0(f0: np.ndarray, source: tuple[float, float], target: tuple[float, float]) -> np.ndarray:
    """Move voiced log f0 from the source speaker's mean/std to the target's; unvoiced frames stay 0."""
    out = np.zeros_like(f0)
    voiced = f0 > 0
    out[voiced] = np.exp((np.log(f0[voiced]) - source[0]) / source[1] * target[1] + target[0])
    return out
