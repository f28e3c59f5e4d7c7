"""The lip-sync generator and the SyncNet expert: shapes, configs that describe themselves, bad configs refused."""

import pytest
import torch

from livetalking.nets.lipsync import (AUDIO_SHAPES, LIP_POINTS, PREVIEW_96, PREVIEW_160, QUALITY_256, LipSyncConfig,
                                      LipSyncGenerator, generator_inputs, mask_lower_face)
from livetalking.nets.syncnet import FRAMES, SyncNet, mouth_stack, sync_loss, sync_probability


@pytest.mark.parametrize("config", [PREVIEW_96, PREVIEW_160, QUALITY_256, LipSyncConfig(block="inverted")])
def test_the_generator_redraws_a_crop_of_its_size(config):
    model = LipSyncGenerator(config).eval()
    faces = torch.rand(2, 6, config.size, config.size)
    audio = torch.randn(2, 1, *config.audio_shape)
    with torch.no_grad():
        face, lips = model(faces, audio, with_lips=True)
    assert face.shape == (2, 3, config.size, config.size)
    assert float(face.min()) >= 0.0 and float(face.max()) <= 1.0
    assert lips.shape == (2, LIP_POINTS, 2)


@pytest.mark.parametrize("feature", ["whisper_mel", "whisper", "mel"])
def test_the_audio_changes_the_face(feature):
    torch.manual_seed(0)
    config = LipSyncConfig(size=96, audio=feature)
    model = LipSyncGenerator(config).eval()
    faces = torch.rand(1, 6, 96, 96)
    with torch.no_grad():
        quiet = model(faces, torch.full((1, 1, *config.audio_shape), -5.0))
        loud = model(faces, torch.randn(1, 1, *config.audio_shape))
    assert float((quiet - loud).abs().max()) > 1e-6


def test_configs_round_trip_and_bad_ones_are_refused():
    assert LipSyncConfig.from_dict(QUALITY_256.as_dict()) == QUALITY_256
    for bad in (dict(size=100), dict(audio="hubert"), dict(block="dense"), dict(mask_top=0.95), dict(widths=(8,))):
        with pytest.raises(ValueError):
            LipSyncConfig(**bad).validate()


def test_the_lower_face_is_masked_and_the_reference_kept():
    crops = torch.ones(1, 3, 96, 96)
    masked = mask_lower_face(crops, 0.5)
    assert float(masked[:, :, :48].min()) == 1.0 and float(masked[:, :, 48:].max()) == 0.0
    inputs = generator_inputs(crops, crops * 0.5, 0.5)
    assert inputs.shape == (1, 6, 96, 96) and float(inputs[:, 3:, 60:].min()) == 0.5


def test_syncnet_scores_pairs_in_zero_to_one():
    net = SyncNet().eval()
    crops = torch.rand(3, FRAMES, 3, 160, 160)
    mouths = mouth_stack(crops, 96)
    assert mouths.shape == (3, 3 * FRAMES, 48, 96)
    with torch.no_grad():
        face, sound = net(mouths, torch.randn(3, 1, *AUDIO_SHAPES[net.config.audio]))
    assert torch.allclose(face.norm(dim=1), torch.ones(3), atol=1e-5)
    p = sync_probability(face, sound)
    assert float(p.min()) >= 0 and float(p.max()) <= 1
    assert float(sync_loss(face, sound, torch.ones(3))) > 0
