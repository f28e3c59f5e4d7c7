"""Lip-sync model speed: training samples/s, inference frames/s per format (PyTorch, TorchScript, ONNX Runtime),
size (96 / 160 / 256 px) and batch (1 / 16), on this machine's CPUs (training on CUDA when there is one, and then
GPU inference at batch 1 / 16 / 64 too).
Minutes per epoch count the training frames of a take at 25 fps (its first 80 %: 400 of a 20 s take,
3600 of a 3-minute one), without the pose-swap batch, which adds about a third.

python -m benchmarks.avatar [--train-steps N] [--repeats N]
"""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.table import median, print_table
from livetalking.nets.lipsync import PREVIEW_96, PREVIEW_160, QUALITY_256, LipSyncConfig, LipSyncGenerator
from livetalking.registry.exporters import export_onnx, export_torchscript, onnx_session
from livetalking.train_jobs.avatar_export import probe_inputs
from livetalking.train_jobs.avatar_losses import lower_face_weights, reconstruction_loss
from livetalking.train_jobs.avatar_train import PRESETS, fit_generator
from tests.fixtures.mouth_clip import mouth_clip


def training_rate(config: LipSyncConfig, steps: int, batch: int, device: torch.device) -> float:
    """Samples per second of full training steps (forward with the lip head, L1 + SSIM, backward, Adam)."""
    model = LipSyncGenerator(config).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    faces, audio = (x.to(device) for x in probe_inputs(config, batch))
    target = faces[:, :3]
    mouth = torch.zeros(batch, 1, config.size, config.size, device=device)
    times = []
    for step in range(steps + 2):
        began = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            face, lips = model(faces, audio, with_lips=True)
        loss, _ = reconstruction_loss(face.float(), target, lower_face_weights(mouth, config.mask_top, 3.0), 0.5)
        (loss + lips.float().abs().mean()).backward()
        optimiser.step()
        optimiser.zero_grad()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= 2:
            times.append(time.perf_counter() - began)
    return batch / median(times)


def loop_epoch_seconds(preset: str, frames: int, use_gpu: bool) -> float:
    """Seconds for one epoch of the real training loop (avatar_train.fit_generator: batches built from the clip,
    pose swap, augmentation, loss, step) of a preset over `frames` training frames of a synthetic clip."""
    model, train = PRESETS[preset]
    clip = mouth_clip(frames, model.size, model)
    seconds = []
    fit_generator(clip, range(frames), model, replace(train, epochs=1, use_gpu=use_gpu),
                  on_epoch=lambda epoch, metrics, snapshot: seconds.append(metrics["seconds"]))
    return seconds[0]


def _timed(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return median(times)


def inference_rates(config: LipSyncConfig, batch: int, repeats: int, folder: Path) -> dict[str, float]:
    """Frames per second of the generator's forward at `batch`, per format."""
    model = LipSyncGenerator(config).eval()
    faces, audio = probe_inputs(config, batch)
    export_torchscript(model, (faces, audio), folder / "m.ts", "bench")
    export_onnx(model, (faces, audio), folder / "m.onnx", ["faces", "audio"], ["face"],
                {"faces": {0: "b"}, "audio": {0: "b"}, "face": {0: "b"}}, "bench")
    script = torch.jit.load(str(folder / "m.ts"))
    session = onnx_session(folder / "m.onnx", threads=torch.get_num_threads())
    feed = {"faces": faces.numpy(), "audio": audio.numpy()}
    with torch.no_grad():
        return {"pt": batch / _timed(lambda: model(faces, audio), repeats),
                "torchscript": batch / _timed(lambda: script(faces, audio), repeats),
                "onnx": batch / _timed(lambda: session.run(None, feed), repeats)}


def cuda_inference_rates(config: LipSyncConfig, batch: int, repeats: int, folder: Path) -> dict[str, float]:
    """Frames per second on the GPU: PyTorch in fp32 and in bf16 autocast, and the TorchScript export as the
    renderer runs it (engines/lipsync_runtime, fp16), each synchronised before the clock is read."""
    from livetalking.engines.lipsync_runtime import TorchScriptGenerator

    model = LipSyncGenerator(config).eval()
    faces, audio = probe_inputs(config, batch)
    export_torchscript(model, (faces, audio), folder / "m.ts", "bench")
    script = TorchScriptGenerator(folder / "m.ts")
    model = model.cuda()
    gpu_faces, gpu_audio = faces.cuda(), audio.cuda()

    def forward(autocast: bool):
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            model(gpu_faces, gpu_audio)
        torch.cuda.synchronize()

    feed = (faces.numpy(), audio.numpy())
    return {"fp32": batch / _timed(lambda: forward(False), repeats),
            "bf16": batch / _timed(lambda: forward(True), repeats),
            "torchscript_fp16": batch / _timed(lambda: script(*feed), repeats)}


def main(train_steps: int = 6, repeats: int = 10) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    where = f"{device.type}, {torch.get_num_threads()} threads"
    rates = {c.size: training_rate(c, train_steps, 16, device) for c in (PREVIEW_96, PREVIEW_160, QUALITY_256)}
    rows = [[f"{c.size} px", f"{sum(p.numel() for p in LipSyncGenerator(c).parameters()) / 1e6:.1f} M",
             rates[c.size], 400 / rates[c.size] / 60, 3600 / rates[c.size] / 60]
            for c in (PREVIEW_96, PREVIEW_160, QUALITY_256)]
    print_table(f"Lip-sync training, batch 16 ({where})",
                ["model", "parameters", "samples/s", "min/epoch 20 s take", "min/epoch 3 min take"], rows)
    rows = []
    for preset in ("preview", "quality") if device.type == "cuda" else ("preview",):
        for seconds_of_take in (20, 180) if device.type == "cuda" else (20,):
            frames = int(seconds_of_take * 25 * 0.8)
            epoch = loop_epoch_seconds(preset, frames, device.type == "cuda")
            epochs = PRESETS[preset][1].epochs
            rows.append([preset, f"{seconds_of_take} s", frames, epoch / 60, epochs, epoch * epochs / 60])
    print_table(f"Time to a model: the training loop on a synthetic take at 25 fps ({where})",
                ["preset", "take", "training frames", "min/epoch", "epochs", "minutes to the model"], rows)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for config in (PREVIEW_160, QUALITY_256):
            for batch in (1, 16):
                rates = inference_rates(config, batch, repeats, Path(tmp))
                rows.append([f"{config.size} px", batch, rates["pt"], rates["torchscript"], rates["onnx"]])
    print_table(f"Lip-sync inference on the CPU ({torch.get_num_threads()} threads); frames/s, median of {repeats}",
                ["model", "batch", "PyTorch", "TorchScript", "ONNX Runtime"], rows)
    if device.type == "cuda":
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for config in (PREVIEW_160, QUALITY_256):
                for batch in (1, 16, 64):
                    rates = cuda_inference_rates(config, batch, repeats, Path(tmp))
                    rows.append([f"{config.size} px", batch, rates["fp32"], rates["bf16"], rates["torchscript_fp16"]])
        print_table(f"Lip-sync inference on {torch.cuda.get_device_name()}; frames/s, median of {repeats} "
                    "(TorchScript fp16 includes the copies to and from the GPU)",
                    ["model", "batch", "PyTorch fp32", "PyTorch bf16", "TorchScript fp16"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=10)
    arguments = parser.parse_args()
    main(arguments.train_steps, arguments.repeats)
