"""The lip-sync model's CUDA paths: the training loop in bf16 autocast, half-precision TorchScript inference, and
ONNX Runtime's CUDA provider. They need only torch, numpy, OpenCV and ONNX, so a GPU machine runs them with
`pytest --noconftest -m gpu tests/nets/test_lipsync_gpu.py`."""

import numpy as np
import pytest
import torch

from livetalking.nets.lipsync import PREVIEW_96, LipSyncGenerator
from livetalking.registry.exporters import export_onnx, export_torchscript, onnx_session
from livetalking.train_jobs.avatar_export import probe_inputs
from livetalking.train_jobs.avatar_train import TrainConfig, fit_generator
from tests.fixtures.mouth_clip import mouth_clip

pytestmark = pytest.mark.gpu


def test_the_training_loop_learns_in_bf16_on_cuda():
    clip = mouth_clip()
    losses = []
    state, metrics = fit_generator(clip, range(clip.frames), PREVIEW_96,
                                   TrainConfig(epochs=6, batch_size=8, use_gpu=True),
                                   on_epoch=lambda epoch, m, snapshot: losses.append(m["loss"]))
    assert all(v.device.type == "cpu" for v in state.values())
    assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0], losses
    assert metrics["epoch"] == 6 and metrics["samples_per_s"] > 0


def test_half_precision_torchscript_on_cuda_matches_pytorch(tmp_path):
    from livetalking.engines.lipsync_runtime import TorchScriptGenerator

    torch.manual_seed(0)
    model = LipSyncGenerator(PREVIEW_96).eval()
    faces, audio = probe_inputs(PREVIEW_96, batch=4, seed=1)
    export_torchscript(model, (faces, audio), tmp_path / "m.ts", "gpu-test")
    generator = TorchScriptGenerator(tmp_path / "m.ts")
    assert generator.device.type == "cuda" and generator.dtype == torch.float16
    with torch.no_grad():
        expected = model(faces, audio).numpy()
    got = generator(faces.numpy(), audio.numpy())
    assert got.shape == expected.shape and np.abs(got - expected).max() < 2e-2


def test_bf16_autocast_on_cuda_stays_close_to_fp32_on_the_cpu():
    torch.manual_seed(0)
    model = LipSyncGenerator(PREVIEW_96).eval()
    faces, audio = probe_inputs(PREVIEW_96, batch=16, seed=2)
    with torch.no_grad():
        expected = model(faces, audio)
        gpu = model.to("cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            got = gpu(faces.cuda(), audio.cuda()).float().cpu()
    assert float((got - expected).abs().max()) < 5e-2 and float((got - expected).abs().mean()) < 5e-3


def test_onnx_runtime_puts_the_cuda_provider_first(tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime is the CPU build (onnxruntime-gpu replaces it in a GPU image)")
    model = LipSyncGenerator(PREVIEW_96).eval()
    faces, audio = probe_inputs(PREVIEW_96, batch=2)
    export_onnx(model, (faces, audio), tmp_path / "m.onnx", ["faces", "audio"], ["face"],
                {"faces": {0: "b"}, "audio": {0: "b"}, "face": {0: "b"}}, "gpu-test")
    assert onnx_session(tmp_path / "m.onnx").get_providers()[0] == "CUDAExecutionProvider"
