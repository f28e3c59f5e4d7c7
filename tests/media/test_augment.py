"""Augmentations do what they say, measured."""

import numpy as np
import pytest

from livetalking.media.audio_features import extract_features
from livetalking.media.audio_io import decode_audio
from livetalking.media.augment import (add_noise, change_speed, measured_rt60, reverberate, room_impulse_response,
                                       shift_pitch)
from tests.fixtures.media import shared


@pytest.fixture(scope="module")
def speech():
    return decode_audio(shared("speech_en_1.wav"), 16000)


def tone(hz, seconds=2.0):
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
@pytest.mark.parametrize("colour", ["white", "pink"])
def test_noise_lands_at_the_requested_snr(speech, snr_db, colour):
    noisy = add_noise(speech, snr_db, np.random.default_rng(1), colour)
    noise = noisy - speech
    measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert abs(measured - snr_db) < 0.1


@pytest.mark.parametrize("rt60", [0.2, 0.5, 0.9])
def test_generated_rooms_have_the_requested_rt60(rt60):
    rir = room_impulse_response(rt60, np.random.default_rng(2))
    assert abs(measured_rt60(rir) - rt60) < 0.1 * rt60


def test_reverberation_keeps_length_and_level(speech):
    wet = reverberate(speech, room_impulse_response(0.5, np.random.default_rng(3)))
    assert len(wet) == len(speech)
    assert abs(np.sqrt(np.mean(wet ** 2)) / np.sqrt(np.mean(speech ** 2)) - 1) < 1e-3
    assert not np.allclose(wet, speech)


def test_speed_change_scales_duration_and_pitch():
    faster = change_speed(tone(200.0), 1.1)
    assert abs(len(faster) - 32000 / 1.1) <= 2
    f0 = extract_features(faster).f0_hz
    assert abs(np.median(f0[f0 > 0]) - 220.0) < 2.5


@pytest.mark.parametrize("semitones", [-2.0, 3.0])
def test_pitch_shift_keeps_duration(semitones):
    shifted = shift_pitch(tone(200.0), semitones)
    assert len(shifted) == 32000
    f0 = extract_features(shifted).f0_hz
    assert abs(np.median(f0[f0 > 0]) - 200.0 * 2 ** (semitones / 12)) < 0.02 * 200.0
