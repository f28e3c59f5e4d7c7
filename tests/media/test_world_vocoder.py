"""WORLD analysis/synthesis, the f0 transform and the formant warp, on real speech and known signals."""

import numpy as np
import pytest

from livetalking.media.audio_io import decode_audio
from livetalking.media.world_vocoder import (F0_FLOOR, analyze, log_f0_stats, synthesize, transform_f0,
                                             warp_envelope)
from tests.fixtures.media import librivox


def test_real_speech_round_trips_through_world():
    audio = decode_audio(librivox()[1][0], 16000)
    frames = analyze(audio, 16000)
    assert frames.coded_sp.shape == (len(frames.f0), 40) and 0.3 < frames.voiced.mean() < 0.95
    again = analyze(synthesize(frames), 16000)
    both = frames.voiced[: len(again.f0)] & again.voiced[: len(frames.f0)]
    ratio = again.f0[: len(frames.f0)][both] / frames.f0[: len(again.f0)][both]
    assert np.median(np.abs(np.log(ratio))) < 0.03


def test_f0_transform_moves_mean_and_spread_and_keeps_unvoiced():
    rng = np.random.default_rng(0)
    f0 = np.where(rng.random(2000) < 0.7, np.exp(rng.normal(np.log(150), 0.2, 2000)), 0.0)
    moved = transform_f0(f0, log_f0_stats(f0), (np.log(100), 0.1))
    mean, std = log_f0_stats(moved)
    assert mean == pytest.approx(np.log(100), abs=1e-6) and std == pytest.approx(0.1, abs=1e-6)
    assert ((moved > 0) == (f0 > 0)).all()


def test_warp_moves_a_spectral_peak_by_the_factor():
    import pyworld

    fft = pyworld.get_cheaptrick_fft_size(16000, F0_FLOOR)
    bins = np.arange(fft // 2 + 1)
    sp = np.tile(1e-4 + np.exp(-0.5 * ((bins - 100) / 6.0) ** 2), (3, 1))
    coded = pyworld.code_spectral_envelope(sp, 16000, 40)
    peak = np.argmax(pyworld.decode_spectral_envelope(warp_envelope(coded, 16000, 1.1), 16000, fft)[0])
    unwarped = np.argmax(pyworld.decode_spectral_envelope(coded, 16000, fft)[0])
    assert abs(peak - unwarped * 1.1) <= 3
    assert warp_envelope(coded, 16000, 1.0) is coded
