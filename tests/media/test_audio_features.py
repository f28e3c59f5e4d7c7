"""Audio features on real speech and on signals with a known answer."""

import numpy as np
import pytest

from livetalking.media.audio_features import (MEL_FPS, SYNC_WINDOW, extract_features, log_mel, mel_filterbank,
                                              mel_window_start, mel_windows)
from livetalking.media.audio_io import decode_audio
from tests.fixtures.media import shared

RATE = 16000


def tone(hz: float, seconds: float = 2.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("name", ["speech_en_1.wav", "speech_zh_poem.wav", "speech_zh_bus.wav",
                                  "greenscreen_child_speech.mp4"])
def test_real_speech_is_found_normalised_and_pitched_like_a_voice(name):
    audio = decode_audio(shared(name), RATE)
    features = extract_features(audio)
    assert 0.4 < features.speech_share < 1.0 and features.speech_segments
    voiced = features.f0_hz[features.f0_hz > 0]
    assert len(voiced) > 0.15 * len(features.f0_hz)
    assert 70 < np.median(voiced) < 400
    assert abs(len(features.mel) - len(audio) / RATE * MEL_FPS) <= 1
    assert features.mel.shape[1] == 80 and features.mel.dtype == np.float32
    assert np.abs(features.audio).max() <= 10 ** (-1 / 20) + 1e-4
    start, end = features.speech_segments[0]
    assert 0 <= start < end <= len(audio) / RATE


@pytest.mark.parametrize("hz", [90.0, 150.0, 220.0, 440.0])
def test_f0_of_a_tone(hz):
    f0 = extract_features(tone(hz)).f0_hz
    assert abs(np.median(f0[f0 > 0]) - hz) < 0.01 * hz
    assert (f0 > 0).mean() > 0.95


def test_silence_has_no_speech_no_pitch_and_no_gain_blowup():
    features = extract_features(np.zeros(RATE * 2, np.float32))
    assert features.speech_share == 0.0 and features.speech_segments == []
    assert (features.f0_hz == 0).all() and features.gain_db == 0.0


def test_speech_share_counts_the_pauses():
    signal = np.concatenate([tone(200, 1.0), np.zeros(RATE, np.float32), tone(200, 1.0)])
    signal += np.random.default_rng(0).normal(0, 1e-4, len(signal)).astype(np.float32)
    features = extract_features(signal)
    assert abs(features.speech_share - 2 / 3) < 0.03
    assert len(features.speech_segments) == 2


def test_mel_puts_a_tone_in_the_right_bin():
    mel = log_mel(tone(1000.0))
    bank = mel_filterbank()
    centre_hz = np.fft.rfftfreq(800, 1 / RATE)[bank.argmax(axis=1)]
    assert abs(centre_hz[mel[10:-10].mean(0).argmax()] - 1000.0) < 80


def test_video_frames_map_to_mel_windows_at_25_and_30_fps():
    assert [mel_window_start(k, 25) for k in range(6)] == [0, 3, 6, 9, 12, 16]
    assert [mel_window_start(k, 30) for k in range(6)] == [0, 2, 5, 8, 10, 13]
    assert mel_window_start(25, 25) == 80 and mel_window_start(30, 30) == 80
    mel = np.arange(100 * 80, dtype=np.float32).reshape(100, 80)
    windows = mel_windows(mel, video_frames=31, fps=25)
    assert windows.shape == (31, SYNC_WINDOW, 80)
    assert np.array_equal(windows[5], mel[16:32])
    assert np.all(windows[30, 4:] == -5.0)
