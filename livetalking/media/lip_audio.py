"""The audio window each video frame gives the lip-sync model, by feature.

- `whisper` (the default): 10 x 384 encoder states of whisper tiny.en (media/speech_states). Measured by
  `benchmarks/lip_features` they carry what is said, not who says it: a lip head fitted on one person
  followed other speakers' real mouths with a median correlation of 0.50 and piper's voice 0.38, where
  the mel window reached 0.09 and 0.01.
- `mel`: the 16 x 80 log-mel window of media/audio_features (no model needed, tied to the voice).
"""

import numpy as np

from livetalking.media.audio_features import AUDIO_LEAD, mel_windows
from livetalking.media.speech_states import STATE_WINDOW, encoder_states, state_windows

LIP_AUDIO_FEATURES = ("whisper_mel", "whisper", "mel")


def resample_steps(windows: np.ndarray, steps: int) -> np.ndarray:
    """(N, T, D) windows linearly resampled to (N, steps, D) over the same span."""
    position = np.linspace(0, windows.shape[1] - 1, steps)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, windows.shape[1] - 1)
    weight = (position - low)[None, :, None].astype(np.float32)
    return windows[:, low] * (1 - weight) + windows[:, high] * weight


def lip_audio_windows(feature: str, audio_16k: np.ndarray, mel: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """(frames, T, D) windows of one recording: its normalised 16 kHz audio and its log-mel (audio_features)."""
    if feature == "mel":
        return mel_windows(mel, frames, fps, AUDIO_LEAD)
    if feature == "whisper":
        return state_windows(encoder_states(audio_16k), frames, fps)
    if feature == "whisper_mel":
        states = state_windows(encoder_states(audio_16k), frames, fps)
        return np.concatenate([states, resample_steps(mel_windows(mel, frames, fps, AUDIO_LEAD), STATE_WINDOW)], 2)
    raise ValueError(f"unknown lip-sync audio feature {feature!r}; known: {', '.join(LIP_AUDIO_FEATURES)}")
