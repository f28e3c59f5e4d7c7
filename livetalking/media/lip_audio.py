"""The audio window each video frame gives the lip-sync model, by feature.

- `whisper_mel` (the default): both windows below side by side, the mel resampled to the 10 steps.
- `whisper`: 10 x 384 encoder states of whisper tiny.en (media/speech_states).
- `mel`: the 16 x 80 log-mel window of media/audio_features (no model needed).

Measured by `benchmarks/lip_features` over the 7 real takes of the test media (a lip head fitted on one
person, median correlation of its mouth opening with the real one): on other speakers' mouths driven
by their own voices 0.24 for `whisper_mel`, 0.13 for `whisper`, 0.16 for `mel`; with piper's voice
saying their words 0.24, 0.12 and 0.11; on the person's own held-out tail 0.42, 0.54 and 0.24.
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
    if feature not in LIP_AUDIO_FEATURES:
        raise ValueError(f"unknown lip-sync audio feature {feature!r}; known: {', '.join(LIP_AUDIO_FEATURES)}")
    if feature == "mel":
        return mel_windows(mel, frames, fps, AUDIO_LEAD)
    states = state_windows(encoder_states(audio_16k), frames, fps)
    if feature == "whisper":
        return states
    return np.concatenate([states, resample_steps(mel_windows(mel, frames, fps, AUDIO_LEAD), STATE_WINDOW)], 2)
