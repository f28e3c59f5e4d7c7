"""Preprocessing speed: frames/s of each stage at 512x512, 1280x720 and 1920x1080 (one thread, as each chunk
worker runs), the whole per-frame chain, the chain with encoding, and a 60 s 720p take end to end on Ray."""

import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.table import print_table
from livetalking.media.audio_io import decode_audio
from livetalking.media.chroma_key import estimate_key
from livetalking.media.frame_pipeline import FramePipeline
from livetalking.media.video_io import iter_frames
from livetalking.platform.store import LocalStore, scoped_key
from livetalking.settings import Settings
from livetalking.train_jobs.avatar_prepare import Chunk, process_chunk, prepare_take

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "media" / "greenscreen_child_speech.mp4"
SIZES = ((512, 512), (1280, 720), (1920, 1080))
FRAMES = 40


def resized_take(path: Path, size: tuple[int, int], seconds: float) -> Path:
    """The real green-screen clip scaled to `size`, looped to `seconds`, with its sound."""
    from tests.fixtures.media import encode_video, loop_frames

    frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in iter_frames(SOURCE)]
    audio = decode_audio(SOURCE, 16000)
    repeats = int(np.ceil(seconds * 16000 / len(audio)))
    return encode_video(path, loop_frames(frames, int(seconds * 25)),
                        audio=np.tile(audio, repeats)[: int(seconds * 16000)])


def stage_rows(models_root: Path) -> list[list]:
    cv2.setNumThreads(1)
    rows = []
    source_frames = list(iter_frames(SOURCE, 0, FRAMES))
    for size in SIZES:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in source_frames]
        pipeline = FramePipeline(models_root, estimate_key(frames[::10]), 25.0, threads=1)
        began = time.perf_counter()
        for frame in frames:
            pipeline(frame)
        total = time.perf_counter() - began
        for stage, seconds in pipeline.seconds.items():
            rows.append([f"{size[0]}x{size[1]}", stage, len(frames) / seconds, 1000 * seconds / len(frames)])
        rows.append([f"{size[0]}x{size[1]}", "chain (no encoding)", len(frames) / total, 1000 * total / len(frames)])
        with tempfile.TemporaryDirectory() as tmp:
            take = resized_take(Path(tmp) / "take.mp4", size, FRAMES / 25)
            began = time.perf_counter()
            process_chunk(take, estimate_key(frames[::10]), 25.0, Chunk(0, 0, FRAMES, 0), Path(tmp) / "out",
                          models_root, threads=1)
            chunk_s = time.perf_counter() - began
        rows.append([f"{size[0]}x{size[1]}", "chain + decode + encode (1 worker)", FRAMES / chunk_s,
                     1000 * chunk_s / FRAMES])
    return rows


def torch_rows(batch_size: int = 8) -> list[list]:
    """The matting chain (key, repair, edges, despill) on torch: CUDA when present, else CPU; vs OpenCV."""
    import torch

    from livetalking.media.matting import matte
    from livetalking.media.matting_torch import matte_batch, pick_device

    device = pick_device()
    rows = []
    source_frames = list(iter_frames(SOURCE, 0, 16))
    for size in SIZES:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in source_frames]
        model = estimate_key(frames[::4])
        began = time.perf_counter()
        for frame in frames:
            matte(frame, model)
        cpu = (time.perf_counter() - began) / len(frames)
        batch = torch.from_numpy(np.stack(frames[:batch_size])).to(device)
        matte_batch(batch, model)
        if device.type == "cuda":
            torch.cuda.synchronize()
        began = time.perf_counter()
        for _ in range(2):
            matte_batch(batch, model)
        if device.type == "cuda":
            torch.cuda.synchronize()
        accelerated = (time.perf_counter() - began) / (2 * batch_size)
        rows.append([f"{size[0]}x{size[1]}", "OpenCV, 1 frame", 1 / cpu, 1000 * cpu])
        rows.append([f"{size[0]}x{size[1]}", f"torch {device.type}, batch {batch_size}", 1 / accelerated,
                     1000 * accelerated])
    return rows


def end_to_end(seconds: float = 60.0) -> list[list]:
    import ray

    from livetalking.train_jobs.avatar_task import run_on_ray

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        take = resized_take(root / "take60.mp4", (1280, 720), seconds)
        settings = Settings(data_root=root / "data", models_root=root / "models")
        settings.models_root.mkdir(parents=True)
        (settings.models_root / "base").symlink_to(ROOT / "models" / "base", target_is_directory=True)
        store = LocalStore(settings.models_root)
        stored = store.put_file(scoped_key("bench", "takes", "t", "source.mp4"), take)
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        try:
            began = time.perf_counter()
            manifest = prepare_take(settings, store, "bench", "avatar", "take", stored.key, stored.sha256, {},
                                    lambda done, total: None, run_on_ray)
            elapsed = time.perf_counter() - began
        finally:
            ray.shutdown()
    frames = manifest["frames"]
    return [[f"{seconds:.0f} s take, 1280x720, {os.cpu_count()} Ray workers", frames, elapsed, frames / elapsed,
             manifest["quality"]["verdict"]]]


def main() -> None:
    models_root = ROOT / "models"
    print_table("preprocessing stages (one thread; chunks run one per core)",
                ["size", "stage", "frames/s", "ms/frame"], stage_rows(models_root))
    print_table("matting chain (key, repair, edges, despill): OpenCV vs torch",
                ["size", "path", "frames/s", "ms/frame"], torch_rows())
    print_table("prepare a take end to end (key, chunks in parallel, audio, preview, manifest, upload)",
                ["take", "frames", "seconds", "frames/s", "verdict"], end_to_end())


if __name__ == "__main__":
    main()
