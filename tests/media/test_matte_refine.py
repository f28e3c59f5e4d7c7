"""Matte repair and edge refinement on constructed mattes."""

import numpy as np

from livetalking.media.matte_refine import guided_filter, refine_edges, repair_alpha


def test_small_holes_are_filled_and_specks_removed_but_real_gaps_stay():
    alpha = np.zeros((200, 200), np.float32)
    alpha[40:200, 50:150] = 1.0
    alpha[80:84, 90:94] = 0.0          # a 16-pixel hole in the subject (an eye that keyed out)
    alpha[120:170, 60:110] = 0.0       # a big enclosed gap: 2500 px, kept
    alpha[10:13, 10:13] = 1.0          # a 9-pixel speck in the backdrop
    inside = np.ones_like(alpha, bool)
    repaired = repair_alpha(alpha, inside)
    assert repaired[80:84, 90:94].min() == 1.0
    assert repaired[10:13, 10:13].max() == 0.0
    assert repaired[130:160, 70:100].max() == 0.0
    assert repaired[40:80, 50:150].min() == 1.0


def test_guided_filter_keeps_flat_regions_and_follows_guide_edges():
    guide = np.zeros((64, 64), np.float32)
    guide[:, 32:] = 1.0
    source = np.zeros_like(guide)
    source[:, 30:] = 1.0                # a matte whose edge is 2 px off the image edge
    out = guided_filter(guide, source, radius=4)
    assert abs(out[:, :12].mean()) < 0.02 and abs(out[:, 44:].mean() - 1) < 1e-3
    assert out[:, 30].mean() < 0.5 and out[:, 31].mean() < 0.6 and out[:, 32].mean() > 0.99
    assert np.all(np.diff(out[0, 20:40]) >= 0)


def test_refinement_changes_only_a_band_around_the_edge():
    frame = np.zeros((120, 120, 3), np.uint8)
    frame[:, 60:] = 200
    alpha = np.zeros((120, 120), np.float32)
    alpha[:, 58:] = 1.0
    refined = refine_edges(frame, alpha)
    assert np.array_equal(refined[:, :50], alpha[:, :50]) and np.array_equal(refined[:, 70:], alpha[:, 70:])
    assert 0.0 <= refined.min() and refined.max() <= 1.0
