"""Audio features for the lip-sync model: 16 kHz mono, speech-level normalisation, voice activity, log-mel, f0, energy.

- Mel: 80 bins (Slaney scale, 55-7600 Hz), pre-emphasis 0.97, Hann window 800, hop 200 at 16 kHz
  (80 mel frames per second), log10 of the magnitude mel spectrum floored at 1e-5: the layout
  Wav2Lip-style models take.
- Alignment to video: video frame k spans [k / fps, (k + 1) / fps); its mel window starts at mel
  frame floor(80 * k / fps). At 25 fps that is 3.2 mel frames per video frame (starts 0, 3, 6, 9, 12,
  16, ...); at 30 fps 2.67 (0, 2, 5, 8, 10, 13, ...). The lip-sync window is 16 mel frames (0.2 s).
- f0 and energy share the mel hop: one value per mel frame. f0 by YIN (60-600 Hz): the first dip
  under 0.15 of the normalised difference, else its global minimum if under 0.35 (YIN's fallback);
  0 where aperiodic or quieter than -50 dBFS.
- Voice activity (by energy): 20 ms frames 12 dB above the take's noise floor (its 10th percentile,
  at most -40 dBFS so a take without pauses still counts) and above -50 dBFS; gaps under 200 ms
  are bridged, segments under 100 ms dropped.
- Normalisation: gain so the RMS over voiced frames is -20 dBFS, limited so the peak stays at -1 dBFS.
"""

from dataclasses import dataclass

import numpy as np

RATE = 16000
N_FFT = 800
HOP = 200
N_MELS = 80
FMIN, FMAX = 55.0, 7600.0
MEL_FPS = RATE / HOP
SYNC_WINDOW = 16
# The lip-sync model's window of a video frame starts this many mel frames before the frame does (75 ms
# of context before, 125 ms after: the mouth shapes a sound slightly before it is heard).
AUDIO_LEAD = 6
# A video frame whose frame_levels value is under this is silent: the render keeps the real (still) mouth
# there, and the evaluation measures the mouth's motion there.
SILENT_FRAME_DB = -35.0
LOG_FLOOR = -5.0
APERIODIC = 0.35
TARGET_RMS_DB, PEAK_DB = -20.0, -1.0
VAD_FRAME = 320
NOISE_FLOOR_CAP_DB = -40.0


@dataclass(frozen=True)
class AudioFeatures:
    """Everything one take's audio gives the lip-sync model."""

    audio: np.ndarray         # (samples,) float32, 16 kHz, normalised
    gain_db: float
    speech_segments: list[tuple[float, float]]
    speech_share: float
    mel: np.ndarray           # (frames, 80) float32
    f0_hz: np.ndarray         # (frames,) float32, 0 = unvoiced
    energy_db: np.ndarray     # (frames,) float32


def _hz_to_mel(hz):
    hz = np.asarray(hz, np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel):
    mel = np.asarray(mel, np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def mel_filterbank() -> np.ndarray:
    """(80, N_FFT // 2 + 1) Slaney-normalised triangular filters."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return (weights * (2.0 / (upper - lower))).astype(np.float32)


def _frames(signal: np.ndarray, length: int, hop: int) -> np.ndarray:
    """(n, length) centred frames (reflect-padded like librosa's center=True)."""
    padded = np.pad(signal, (length // 2, length // 2), mode="reflect" if len(signal) > length // 2 else "constant")
    count = 1 + max(0, (len(padded) - length) // hop)
    index = np.arange(length)[None, :] + hop * np.arange(count)[:, None]
    return padded[index]


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(frames, 80) log10 mel magnitudes of 16 kHz audio."""
    emphasised = np.append(audio[:1], audio[1:] - 0.97 * audio[:-1]).astype(np.float32)
    frames = _frames(emphasised, N_FFT, HOP) * np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    magnitude = np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32)
    return np.log10(np.maximum(magnitude @ mel_filterbank().T, 10 ** LOG_FLOOR)).astype(np.float32)


def mel_window_start(video_frame: int, fps: float) -> int:
    """The first mel frame of a video frame's window (see the module docstring)."""
    return int(np.floor(MEL_FPS * video_frame / fps + 1e-9))


def mel_windows(mel: np.ndarray, video_frames: int, fps: float, lead: int = 0) -> np.ndarray:
    """(video_frames, 16, 80): each video frame's mel window, starting `lead` mel frames before the frame's own
    start, padded with silence outside the audio."""
    return windows_at(mel, np.array([mel_window_start(k, fps) - lead for k in range(video_frames)], np.int64))


def windows_at(mel: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(n, 16, 80) windows of `mel` beginning at `starts` (any integers), silence where they leave the audio."""
    pad = SYNC_WINDOW + int(max(0, -starts.min(initial=0)))
    silence = np.full((pad, mel.shape[1]), LOG_FLOOR, np.float32)
    padded = np.concatenate([silence, mel.astype(np.float32), silence])
    index = np.clip(starts, -pad, len(mel)) + pad
    return padded[index[:, None] + np.arange(SYNC_WINDOW)[None, :]]


def frame_levels(mel: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """(frames,) mean log-mel level (x10, dB-like) of the audio each video frame spans."""
    starts = np.floor(MEL_FPS * np.arange(frames) / fps + 1e-9).astype(int)
    ends = np.maximum(starts + 1, np.floor(MEL_FPS * np.arange(1, frames + 1) / fps + 1e-9).astype(int))
    level = 10 * mel.mean(axis=1)
    floor = 10 * LOG_FLOOR
    return np.array([level[s:e].mean() if s < len(level) else floor for s, e in zip(starts, ends, strict=True)],
                    np.float32)


def energy_db(audio: np.ndarray) -> np.ndarray:
    """RMS level in dBFS per mel hop."""
    frames = _frames(audio, N_FFT, HOP)
    return (10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-10))).astype(np.float32)


def yin_f0(audio: np.ndarray, fmin: float = 60.0, fmax: float = 600.0, threshold: float = 0.15) -> np.ndarray:
    """f0 in Hz per mel hop by YIN (de Cheveigné and Kawahara 2002); 0 where no period is clear or it is quiet."""
    width = int(np.ceil(RATE / fmin))
    frames = _frames(audio, 2 * width, HOP).astype(np.float64)  # (N, 2W)
    size = 1 << int(np.ceil(np.log2(4 * width)))
    head = np.fft.rfft(frames[:, :width], n=size, axis=1)
    whole = np.fft.rfft(frames, n=size, axis=1)
    cross = np.fft.irfft(np.conj(head) * whole, n=size, axis=1)[:, : width + 1]  # sum_j x_j x_{j+tau}, j < W
    cumulative = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    lags = np.arange(width + 1)
    shifted_energy = cumulative[:, lags + width] - cumulative[:, lags]
    difference = cumulative[:, width:width + 1] + shifted_energy - 2 * cross
    difference[:, 0] = 0.0
    mean_so_far = np.cumsum(difference[:, 1:], axis=1) / lags[1:]
    normalised = np.ones_like(difference)
    normalised[:, 1:] = difference[:, 1:] / np.maximum(mean_so_far, 1e-12)
    low, high = int(RATE / fmax), min(width, int(RATE / fmin))
    f0 = np.zeros(len(frames), np.float32)
    candidates = normalised[:, low:high]
    below = candidates < threshold
    clear = below.any(axis=1)
    periodic = clear | (candidates.min(axis=1) < APERIODIC)
    for i in np.nonzero(periodic)[0]:
        lag = int(np.argmax(below[i])) if clear[i] else int(np.argmin(candidates[i]))
        while lag + 1 < candidates.shape[1] and candidates[i, lag + 1] < candidates[i, lag]:
            lag += 1
        tau = float(lag + low)
        a, b, c = normalised[i, int(tau) - 1], normalised[i, int(tau)], normalised[i, int(tau) + 1]
        curvature = a - 2 * b + c
        if curvature > 0:
            tau += float(np.clip(0.5 * (a - c) / curvature, -1, 1))
        f0[i] = RATE / tau
    f0[energy_db(audio)[: len(f0)] < -50] = 0.0
    return f0


def voice_activity(audio: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(per-20 ms speech flags, [(start_s, end_s)]) by an adaptive energy threshold."""
    count = len(audio) // VAD_FRAME
    if count == 0:
        return np.zeros(0, bool), []
    frames = audio[: count * VAD_FRAME].reshape(count, VAD_FRAME)
    level = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-10))
    floor = min(float(np.percentile(level, 10)), NOISE_FLOOR_CAP_DB)
    speech = (level > floor + 12.0) & (level > -50.0)
    frame_s = VAD_FRAME / RATE
    segments: list[list[float]] = []
    for index in np.nonzero(speech)[0]:
        start = index * frame_s
        if segments and start - segments[-1][1] < 0.2:
            segments[-1][1] = start + frame_s
        else:
            segments.append([start, start + frame_s])
    kept = [(round(a, 3), round(b, 3)) for a, b in segments if b - a >= 0.1]
    flags = np.zeros(count, bool)
    for a, b in kept:
        flags[int(round(a / frame_s)): int(round(b / frame_s))] = True
    return flags, kept


def normalise_level(audio: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale so voiced frames sit at -20 dBFS RMS, peak limited to -1 dBFS; returns (audio, gain in dB)."""
    voiced = audio[: len(speech) * VAD_FRAME].reshape(-1, VAD_FRAME)[speech] if speech.any() else audio
    rms = float(np.sqrt(np.mean(voiced ** 2))) if voiced.size else 0.0
    if rms < 1e-6:
        return audio.copy(), 0.0
    gain_db = TARGET_RMS_DB - 20 * np.log10(rms)
    peak = float(np.abs(audio).max())
    gain_db = min(gain_db, PEAK_DB - 20 * np.log10(max(peak, 1e-9)))
    return (audio * 10 ** (gain_db / 20)).astype(np.float32), float(gain_db)


def extract_features(audio_16k: np.ndarray) -> AudioFeatures:
    """All features of one take's 16 kHz mono audio."""
    flags, segments = voice_activity(audio_16k)
    audio, gain = normalise_level(audio_16k, flags)
    mel = log_mel(audio)
    f0 = yin_f0(audio)[: len(mel)]
    energy = energy_db(audio)[: len(mel)]
    share = float(flags.mean()) if flags.size else 0.0
    return AudioFeatures(audio, gain, segments, share, mel, f0, energy)
