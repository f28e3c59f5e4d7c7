"""Audio augmentation for voice training: noise at a chosen SNR, generated room reverberation, speed and pitch.

- add_noise: white or pink noise scaled so that signal power / noise power is exactly `snr_db`.
- room_impulse_response: exponentially decaying noise with the energy decay of the requested RT60
  (60 dB in rt60 seconds) after a direct-path impulse; reverberate convolves and keeps the level.
- change_speed: resampling (tempo and pitch move together, like a tape).
- shift_pitch: pitch moved by `semitones` at the same duration (librosa's phase vocoder + resampling).
"""

from fractions import Fraction

import numpy as np
from scipy.signal import fftconvolve, resample_poly

RATE = 16000


def _power(signal: np.ndarray) -> float:
    return float(np.mean(np.asarray(signal, np.float64) ** 2))


def pink_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise by shaping white noise's spectrum."""
    spectrum = np.fft.rfft(rng.normal(size=length))
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    frequencies[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(frequencies), n=length)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """audio + noise with signal/noise power ratio snr_db."""
    noise = rng.normal(size=len(audio)) if colour == "white" else pink_noise(len(audio), rng)
    scale = np.sqrt(_power(audio) / (_power(noise) * 10 ** (snr_db / 10)))
    return (audio + scale * noise).astype(np.float32)


def room_impulse_response(rt60_s: float, rng: np.random.Generator, rate: int = RATE,
                          pre_delay_s: float = 0.005) -> np.ndarray:
    """A synthetic RIR: direct impulse, then diffuse noise decaying 60 dB over rt60_s."""
    length = int(rate * (pre_delay_s + 1.2 * rt60_s))
    t = np.arange(length) / rate
    decay = np.exp(-6.907755 * np.clip(t - pre_delay_s, 0, None) / rt60_s)  # ln(1000) = 60 dB in amplitude
    rir = rng.normal(size=length) * decay * 0.3
    rir[: int(rate * pre_delay_s)] = 0.0
    rir[0] = 1.0
    return rir.astype(np.float32)


def reverberate(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with a room response, same length and RMS as the input."""
    wet = fftconvolve(audio, rir)[: len(audio)]
    return (wet * np.sqrt(_power(audio) / max(_power(wet), 1e-12))).astype(np.float32)


def measured_rt60(rir: np.ndarray, rate: int = RATE) -> float:
    """RT60 from Schroeder's backward integration (T20 fit from -5 to -25 dB, extrapolated)."""
    energy = np.cumsum(rir[::-1].astype(np.float64) ** 2)[::-1]
    curve = 10 * np.log10(energy / energy[0])
    start, end = np.argmax(curve <= -5), np.argmax(curve <= -25)
    slope = np.polyfit(np.arange(start, end) / rate, curve[start:end], 1)[0]
    return float(-60.0 / slope)


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """factor 1.1 = 10 % faster (and higher), by resampling."""
    ratio = Fraction(1 / factor).limit_denominator(1000)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def shift_pitch(audio: np.ndarray, semitones: float, rate: int = RATE) -> np.ndarray:
    """Pitch moved by `semitones`, duration kept."""
    import librosa

    return librosa.effects.pitch_shift(audio.astype(np.float32), sr=rate, n_steps=semitones).astype(np.float32)
