"""The optional patch discriminator: its shape, that it learns to tell sharp faces from blurred ones, and that
the generator's loop trains beside it, snapshots it and resumes it."""

import torch
from torch.nn import functional as F

from livetalking.nets.discriminator import PatchDiscriminator
from livetalking.nets.lipsync import PREVIEW_96
from livetalking.train_jobs.avatar_losses import Adversary
from livetalking.train_jobs.avatar_train import TrainConfig, fit_generator
from tests.fixtures.mouth_clip import mouth_clip


def test_the_discriminator_scores_patches():
    assert PatchDiscriminator()(torch.rand(2, 3, 48, 96)).shape == (2, 1, 6, 12)


def test_the_adversary_learns_to_tell_sharp_faces_from_blurred_ones():
    torch.manual_seed(0)
    clip = mouth_clip(frames=16, size=96)
    sharp = torch.from_numpy(clip.crops).permute(0, 3, 1, 2).float() / 255
    sharp = (sharp + 0.2 * torch.rand_like(sharp)).clamp(0, 1)     # texture that a blur removes
    blurred = F.avg_pool2d(sharp, 5, 1, 2)
    adversary = Adversary(PREVIEW_96.mask_top, 2e-3, torch.device("cpu"))
    losses = [adversary.step(blurred, sharp) for _ in range(40)]
    assert losses[0] > 0.6 and losses[-1] < 0.3
    with torch.no_grad():
        assert float(adversary.generator_loss(blurred)) > float(adversary.generator_loss(sharp))


def test_the_generator_trains_beside_the_adversary_and_resumes_it():
    clip = mouth_clip(frames=48, size=96)
    config = TrainConfig(epochs=2, batch_size=4, adv_weight=0.05)
    snapshots = []
    _, metrics = fit_generator(clip, range(0, 48), PREVIEW_96, config,
                               on_epoch=lambda epoch, m, snapshot: snapshots.append(snapshot()))
    assert metrics["adv_loss"] > 0 and metrics["disc_loss"] > 0
    first = snapshots[0]["adversary"]
    assert set(first) == {"net", "optimiser"}
    resumed = []
    fit_generator(clip, range(0, 48), PREVIEW_96, config, resume=snapshots[0],
                  on_epoch=lambda epoch, m, snapshot: resumed.append((epoch, snapshot())))
    assert [epoch for epoch, _ in resumed] == [2]
    after = resumed[0][1]["adversary"]["net"]
    assert any(not torch.equal(first["net"][k], after[k]) for k in first["net"])


def test_the_evaluation_sees_blur_as_lost_sharpness():
    import cv2
    import numpy as np

    from livetalking.train_jobs.avatar_eval import sharpness

    crops = np.random.default_rng(0).integers(0, 256, (4, 96, 96, 3), dtype=np.uint8)
    blurred = np.stack([cv2.GaussianBlur(c, (0, 0), 2) for c in crops])
    assert sharpness(blurred, 0.56) < 0.1 * sharpness(crops, 0.56)
    assert sharpness(crops, 0.56) == sharpness(crops.copy(), 0.56)
