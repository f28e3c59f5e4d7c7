"""Prepare an avatar take: key, matte, layers, face tracks, crops and audio features, chunk by chunk, into the store.

A take is cut into 10 s chunks processed independently (in parallel as Ray tasks when Ray runs);
each chunk starts 12 frames early so tracking and smoothing are settled at its first frame. Finished
chunks are uploaded at once and recorded in the task checkpoint, so a restart continues after them.
Layout under tenants/<tenant>/avatars/<avatar>/prepared/<take>/:
  chunk-00000/frames.mp4      despilled foreground, H.264 crf 18
  chunk-00000/alpha.mkv       person matte, grey, lossless FFV1
  chunk-00000/layers.mkv      face / hair / body masks as R / G / B at half resolution, lossless FFV1
  chunk-00000/crop_96.mp4, crop_160.mp4, crop_256.mp4   aligned face crops (black where no face)
  chunk-00000/tracks.npz      landmarks (N, 468, 3; NaN = no face), presence, crop transforms and boxes,
                              mouth polygons per crop size
  audio_16k.wav, audio.npz    normalised 16 kHz audio; mel (T, 80), f0, energy, speech segments,
                              mel window start per video frame
  preview.png                 a composited frame beside its matte
  manifest.json               versions, parameters, checksums of every file, quality report
                              (the schema: platform/prepared_manifest.PreparedManifest)
"""

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from livetalking import __version__
from livetalking.media.audio_features import HOP, RATE, extract_features, mel_window_start, voice_activity
from livetalking.media.audio_io import decode_audio, write_wav
from livetalking.media.chroma_key import KeyModel, estimate_key
from livetalking.media.face_align import CROP_SIZES, TEMPLATE, crop_box
from livetalking.media.frame_pipeline import FramePipeline, mouth_polygon
from livetalking.media.litert_model import base_model_path
from livetalking.media.probe import sample_frames
from livetalking.media.quality import AudioStats, FrameStats, audio_stats, build_report, crop_stats, head_pose
from livetalking.media.video_io import VideoWriter, frame_count, iter_frames
from livetalking.platform.store import ArtifactStore, make_store, scoped_key
from livetalking.settings import Settings
from livetalking.platform.prepared_manifest import Parameters, PreparedManifest

CHUNK_SECONDS = 10.0
WARMUP_FRAMES = 12
KEY_SAMPLES = 8
PIPELINE_VERSION = "2"


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    count: int
    warmup: int


def plan_chunks(total_frames: int, fps: float, seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """Consecutive chunks of `seconds`; each but the first warms up on the frames before it."""
    size = max(1, int(round(seconds * fps)))
    return [Chunk(i, start, min(size, total_frames - start), min(WARMUP_FRAMES, start))
            for i, start in enumerate(range(0, total_frames, size))]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def process_chunk(source: Path, key: KeyModel, fps: float, chunk: Chunk, out_dir: Path, models_root: Path,
                  threads: int = 1) -> dict:
    """Run the frame pipeline over one chunk and write its files into out_dir; returns its summary."""
    cv2.setNumThreads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    pipeline = FramePipeline(models_root, key, fps, threads)
    writers = {"frames": VideoWriter(out_dir / "frames.mp4", fps), "alpha": VideoWriter(out_dir / "alpha.mkv", fps,
                                                                                         lossless=True),
               "layers": VideoWriter(out_dir / "layers.mkv", fps, lossless=True)}
    writers.update({f"crop_{s}": VideoWriter(out_dir / f"crop_{s}.mp4", fps) for s in CROP_SIZES})
    landmarks, presence, stats = [], [], []
    transforms = {s: [] for s in CROP_SIZES}
    polygons = {s: [] for s in CROP_SIZES}
    try:
        for i, frame in enumerate(iter_frames(source, chunk.start - chunk.warmup, chunk.count + chunk.warmup)):
            result = pipeline(frame)
            if i < chunk.warmup:
                continue
            writers["frames"].write(result.foreground)
            writers["alpha"].write(result.alpha)
            writers["layers"].write(result.layers)
            face = result.landmarks is not None
            stat = FrameStats(face=face, faces_detected=result.faces_detected, spill=result.green_excess_on_edges)
            for size in CROP_SIZES:
                crop = result.crops.get(size, np.zeros((size, size, 3), np.uint8))
                writers[f"crop_{size}"].write(crop)
                transforms[size].append(result.transforms.get(size, np.full((2, 3), np.nan)))
                polygons[size].append(mouth_polygon(result.landmarks, result.transforms[size]) if face
                                      else np.full((20, 2), np.nan))
            if face:
                stat.roll_deg, stat.yaw_deg, stat.pitch_ratio = head_pose(result.landmarks)
                stat.sharpness, stat.face_luma = crop_stats(result.crops[256])
            landmarks.append(result.landmarks if face else np.full((468, 3), np.nan))
            presence.append(result.presence)
            stats.append(stat)
    finally:
        for writer in writers.values():
            writer.close()
    arrays = {"landmarks": np.array(landmarks, np.float32).reshape(-1, 468, 3),
              "presence": np.array(presence, np.float32)}
    for size in CROP_SIZES:
        matrices = np.array(transforms[size], np.float64).reshape(-1, 2, 3)
        arrays[f"transform_{size}"] = matrices.astype(np.float32)
        arrays[f"box_{size}"] = np.array([crop_box(m, size) if np.isfinite(m).all() else np.full((4, 2), np.nan)
                                          for m in matrices], np.float32).reshape(-1, 4, 2)
        arrays[f"mouth_polygon_{size}"] = np.array(polygons[size], np.float32).reshape(-1, 20, 2)
    np.savez_compressed(out_dir / "tracks.npz", **arrays)
    (out_dir / "stats.json").write_text(json.dumps([asdict(s) for s in stats]))
    return {"index": chunk.index, "start": chunk.start, "frames": len(stats),
            "seconds": {k: round(v, 3) for k, v in pipeline.seconds.items()}}


def run_chunk(settings: Settings, source_key: str, source_sha256: str, key: KeyModel, fps: float, chunk: Chunk,
              prefix: str) -> dict:
    """One chunk wherever it is scheduled: fetch the take, process, upload the chunk's files; returns its summary."""
    store = make_store(settings)
    with tempfile.TemporaryDirectory(prefix="chunk-") as tmp, store.open_local(source_key, source_sha256) as source:
        out_dir = Path(tmp)
        summary = process_chunk(source, key, fps, chunk, out_dir, settings.models_root)
        summary["files"] = upload_dir(store, out_dir, f"{prefix}/chunk-{chunk.index:05d}")
    return summary


def prepare_audio(source: Path, out_dir: Path, total_frames: int, fps: float) -> AudioStats:
    """Audio features of the take's sound track, if any; returns the audio part of the quality report."""
    raw = decode_audio(source, RATE)
    if raw.size == 0:
        return AudioStats(False)
    features = extract_features(raw)
    flags, _ = voice_activity(raw)
    write_wav(out_dir / "audio_16k.wav", features.audio, RATE)
    np.savez_compressed(out_dir / "audio.npz", mel=features.mel, f0_hz=features.f0_hz,
                        energy_db=features.energy_db,
                        speech_segments=np.array(features.speech_segments, np.float32).reshape(-1, 2),
                        mel_window_start=np.array([mel_window_start(k, fps) for k in range(total_frames)], np.int32),
                        gain_db=np.float32(features.gain_db), hop=np.int32(HOP), rate=np.int32(RATE))
    return audio_stats(raw, flags)


def preview(source: Path, key: KeyModel, fps: float, frame_index: int, models_root: Path) -> np.ndarray:
    """A composited frame (over mid grey) beside its matte, as RGB."""
    frame = next(iter_frames(source, frame_index, 1))
    result = FramePipeline(models_root, key, fps)(frame)
    alpha = result.alpha.astype(np.float32)[..., None] / 255.0
    composite = (alpha * result.foreground + (1 - alpha) * 128).astype(np.uint8)
    return np.concatenate([composite, np.repeat(result.alpha[..., None], 3, axis=2)], axis=1)


def upload_dir(store: ArtifactStore, folder: Path, prefix: str) -> dict[str, dict]:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        stored = store.put_file(f"{prefix}/{relative}", path)
        files[relative] = {"key": stored.key, "sha256": stored.sha256, "size": stored.size}
    return files


ChunkRunner = Callable[[list[tuple[Chunk, tuple]]], Iterator[tuple[Chunk, dict]]]


def run_in_process(calls: list[tuple[Chunk, tuple]]) -> Iterator[tuple[Chunk, dict]]:
    """Run chunks one after the other here."""
    for chunk, args in calls:
        yield chunk, run_chunk(*args)


def prepare_take(settings: Settings, store: ArtifactStore, tenant_id: str, avatar_id: str, take_id: str,
                 source_key: str, source_sha256: str, done: dict[int, dict],
                 on_chunk: Callable[[dict[int, dict], int], None], runner: ChunkRunner = run_in_process) -> dict:
    """Prepare one take. `done` holds chunks finished earlier (from a checkpoint); `on_chunk(done, total)` is
    called after each new one; `runner` runs the chunks (in process, or as Ray tasks)."""
    prefix = scoped_key(tenant_id, "avatars", avatar_id, "prepared", take_id)
    models_root = settings.models_root
    with store.open_local(source_key, source_sha256) as source, tempfile.TemporaryDirectory(prefix="prep-") as tmp:
        scratch = Path(tmp)
        total, fps = frame_count(source)
        key = estimate_key(sample_frames(source, KEY_SAMPLES, max_side=100_000))
        chunks = plan_chunks(total, fps)
        calls = [(c, (settings, source_key, source_sha256, key, fps, c, prefix)) for c in chunks if c.index not in done]
        for chunk, summary in runner(calls):
            done[chunk.index] = summary
            on_chunk(done, len(chunks))
        audio = prepare_audio(source, scratch, total, fps)
        cv2.imwrite(str(scratch / "preview.png"), preview(source, key, fps, total // 2, models_root)[:, :, ::-1])
        files = upload_dir(store, scratch, prefix)
        stats = [FrameStats(**s) for i in sorted(done)
                 for s in json.loads(store.get_bytes(done[i]["files"]["stats.json"]["key"],
                                                     done[i]["files"]["stats.json"]["sha256"]))]
        report = build_report(stats, key, audio)
        manifest = PreparedManifest(
            pipeline_version=PIPELINE_VERSION, livetalking=__version__,
            versions={"opencv": cv2.__version__, "av": av.__version__, "numpy": np.__version__,
                      "models": {n: _sha256(base_model_path(models_root, n)) for n in
                                 ("selfie_segmentation", "face_detection_short_range", "face_landmark")}},
            take_id=take_id, frames=total, fps=fps,
            parameters=Parameters(key=key.as_dict(), chunk_seconds=CHUNK_SECONDS, warmup_frames=WARMUP_FRAMES,
                                  crop_sizes=list(CROP_SIZES), crop_template=TEMPLATE.tolist()),
            chunks=[done[i] for i in sorted(done)], files=files, quality=asdict(report))
        manifest_path = scratch / "manifest.json"
        manifest_path.write_text(manifest.model_dump_json(indent=1))
        stored = store.put_file(f"{prefix}/manifest.json", manifest_path)
    return {**manifest.model_dump(mode="json"), "manifest": {"key": stored.key, "sha256": stored.sha256}}
