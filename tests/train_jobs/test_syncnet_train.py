"""The SyncNet expert's training, its judgement in the evaluation, and its loss on the generator.

A synthetic clip (tests/fixtures/mouth_clip) whose mouth opens as far as one audio feature says lets
these check what the loops do in seconds; the real-take numbers come from test_avatar_model and
docs/avatar-model.md."""

from dataclasses import replace

import numpy as np
import torch

from livetalking.nets.lipsync import PREVIEW_96
from livetalking.nets.syncnet import SyncNetConfig, load_syncnet
from livetalking.train_jobs.avatar_eval import SyncJudge
from livetalking.train_jobs.avatar_train import TrainConfig, fit_generator
from livetalking.train_jobs.syncnet_train import SyncTrainConfig, fit_syncnet, offset_partners, window_centres
from tests.fixtures.mouth_clip import mouth_clip

NET = SyncNetConfig(size=48, embed=64, audio=PREVIEW_96.audio)


def test_windows_keep_to_their_frames_and_to_faces():
    has_face = np.ones(20, bool)
    has_face[9] = False
    assert window_centres(has_face, range(0, 20)).tolist() == [2, 3, 4, 5, 6, 12, 13, 14, 15, 16, 17]
    assert window_centres(has_face, range(10, 16)).tolist() == [12, 13]
    assert window_centres(has_face, range(0, 4)).tolist() == []


def test_offset_partners_are_far_enough_away():
    centres = np.arange(2, 60)
    partners = offset_partners(centres, 5, np.random.default_rng(1))
    assert (np.abs(partners - centres) >= 5).all() and set(partners) <= set(centres)


def test_the_expert_learns_which_audio_belongs_to_the_mouths():
    clip = mouth_clip(frames=160, size=96)
    clip.audio[:, :, :32] = clip.audio[:, :, :1]    # 32 of the 464 features say how far the mouth opens
    state, metrics = fit_syncnet(clip, range(0, 128), NET, SyncTrainConfig(epochs=10, batch_size=8, lr=1e-3))
    assert metrics["syncnet_windows"] == 124 and metrics["syncnet_train_accuracy"] > 0.8
    frames = np.arange(128, 160)
    judge = SyncJudge.over(load_syncnet(state, NET), clip, frames)
    real = judge.measure(clip.crops[frames])
    assert real["sync_preference"] > 0.7 and real["sync_margin"] > 0.1
    shuffled = judge.measure(clip.crops[np.random.default_rng(0).permutation(frames)])
    assert shuffled["sync_margin"] < real["sync_margin"] - 0.2


def test_the_sync_loss_switches_on_by_schedule_and_trains_only_the_generator():
    clip = mouth_clip(frames=64, size=96)
    state, _ = fit_syncnet(clip, range(0, 64), NET, SyncTrainConfig(epochs=1, batch_size=8))
    syncnet = load_syncnet(state, NET)
    before = {k: v.clone() for k, v in syncnet.state_dict().items()}
    seen = []
    config = TrainConfig(epochs=2, batch_size=4, sync_weight=0.1, sync_start=0.5, sync_windows=2)
    fit_generator(clip, range(0, 64), PREVIEW_96, config, on_epoch=lambda e, m, s: seen.append(m["sync_loss"]),
                  syncnet=syncnet)
    assert seen[0] == 0.0 and seen[1] > 0.0
    assert all(torch.equal(before[k], v) for k, v in syncnet.state_dict().items())
    _, without = fit_generator(clip, range(0, 64), PREVIEW_96, replace(config, epochs=1))
    assert without["sync_loss"] == 0.0
