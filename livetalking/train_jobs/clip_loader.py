"""Decode a prepared take from the artifact store into an AvatarClip (crops, tracks, audio windows)."""

import numpy as np

from livetalking.media.audio_features import RATE, frame_levels
from livetalking.media.audio_io import decode_audio
from livetalking.media.lip_audio import lip_audio_windows
from livetalking.media.video_io import iter_frames
from livetalking.platform.prepared_manifest import PreparedManifest
from livetalking.platform.store import ArtifactStore
from livetalking.train_jobs.avatar_data import AvatarClip


def load_clip(store: ArtifactStore, manifest: PreparedManifest, size: int, feature: str) -> AvatarClip:
    """Decode a prepared take's `size` px crops and tracks, with its audio windows of `feature`, into one clip."""
    if size not in manifest.parameters.crop_sizes:
        raise ValueError(f"the prepared take has crops of {manifest.parameters.crop_sizes} px, not {size}")
    crops, landmarks, transforms = [], [], []
    for chunk in sorted(manifest.chunks, key=lambda c: c.start):
        video = manifest.chunk_file(chunk, f"crop_{size}.mp4")
        tracks_file = manifest.chunk_file(chunk, "tracks.npz")
        with store.open_local(video.key, video.sha256) as path:
            frames = list(iter_frames(path))
        with store.open_local(tracks_file.key, tracks_file.sha256) as path, np.load(path) as tracks:
            landmarks.append(tracks["landmarks"])
            transforms.append(tracks[f"transform_{size}"])
        crops.append(np.stack(frames)[: chunk.frames])
    audio = manifest.take_file("audio.npz")
    wav = manifest.take_file("audio_16k.wav")
    with store.open_local(audio.key, audio.sha256) as path, np.load(path) as features:
        mel = features["mel"].astype(np.float32)
    with store.open_local(wav.key, wav.sha256) as path:
        audio_16k = decode_audio(path, RATE)
    frames = sum(len(c) for c in crops)
    return AvatarClip(np.concatenate(crops), np.concatenate(landmarks).astype(np.float32),
                      np.concatenate(transforms).astype(np.float32),
                      lip_audio_windows(feature, audio_16k, mel, frames, manifest.fps),
                      frame_levels(mel, frames, manifest.fps), manifest.fps, feature)
