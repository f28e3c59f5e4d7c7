"""The lip head's ridge fit: it recovers a mouth that follows the audio and keeps a silent mouth still."""

import numpy as np

from livetalking.train_jobs.lip_model import OPENING, STRENGTHS, fit_lips, opening


def _take(frames: int, seed: int):
    """Audio windows whose loudness opens the mouth (plus noise that says nothing), and the lip landmarks."""
    rng = np.random.default_rng(seed)
    loudness = np.convolve(rng.random(frames), np.ones(5) / 5, mode="same")
    windows = rng.normal(0, 1, (frames, 16, 80)).astype(np.float32)
    windows[:, 6:10, 10:30] += loudness[:, None, None] * 4
    lips = np.tile(rng.normal(0, 0.3, (1, 40, 2)), (frames, 1, 1)).astype(np.float32)
    lips[:, OPENING[1], 1] += loudness * 0.8
    return windows, lips, loudness


def test_the_fitted_mouth_follows_the_audio_on_new_frames():
    windows, lips, _ = _take(400, 0)
    fit = fit_lips(windows, lips)
    assert fit.strength in STRENGTHS and fit.validation_corr > 0.5
    new_windows, new_lips, loudness = _take(200, 1)
    predicted = fit.predict(new_windows)
    assert predicted.shape == (200, 40, 2)
    assert np.corrcoef(opening(predicted), opening(new_lips))[0, 1] > 0.7
    assert set(fit.state()) == {"mean", "std", "weight", "bias"} and fit.state()["weight"].shape == (1280, 80)


def test_audio_that_says_nothing_gives_a_still_mouth():
    rng = np.random.default_rng(2)
    windows = rng.normal(0, 1, (300, 16, 80)).astype(np.float32)
    lips = np.tile(rng.normal(0, 0.3, (1, 40, 2)), (300, 1, 1)).astype(np.float32)
    lips += rng.normal(0, 0.02, lips.shape).astype(np.float32)
    fit = fit_lips(windows, lips)
    assert opening(fit.predict(rng.normal(0, 1, (50, 16, 80)))).std() < 0.02
