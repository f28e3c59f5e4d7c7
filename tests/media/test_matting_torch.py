"""The torch matting chain agrees with the OpenCV one (on the CPU here, on CUDA where a GPU is present)."""

import cv2
import numpy as np
import pytest
import torch

from livetalking.media.chroma_key import despill, estimate_key
from livetalking.media.matting import matte
from livetalking.media.matting_torch import matte_batch, pick_device
from tests.fixtures.media import decode_frames, shared


def compare(frames, device):
    model = estimate_key(frames[::4])
    expected = np.stack([matte(f, model) for f in frames])
    alpha, despilled = matte_batch(torch.from_numpy(np.stack(frames)).to(device), model)
    difference = np.abs(alpha.cpu().numpy() - expected)
    assert np.array_equal(despilled.cpu().numpy(), np.stack([despill(f) for f in frames]))
    return difference


@pytest.mark.parametrize("clip", ["greenscreen_man_noaudio.mp4", "greenscreen_child_speech.mp4"])
@pytest.mark.parametrize("size", [None, (1280, 720)])
def test_torch_on_cpu_matches_opencv(clip, size):
    frames = decode_frames(shared(clip))[:6]
    if size:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]
    difference = compare(frames, torch.device("cpu"))
    assert difference.max() < 0.05 and difference.mean() < 1e-4


def test_device_selection():
    assert pick_device("cpu").type == "cpu"
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.gpu
@pytest.mark.parametrize("size", [(512, 512), (1920, 1080)])
def test_cuda_matches_opencv(size):
    frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC)
              for f in decode_frames(shared("greenscreen_man_noaudio.mp4"))[:16]]
    difference = compare(frames, torch.device("cuda"))
    assert difference.max() < 0.05 and difference.mean() < 1e-4
