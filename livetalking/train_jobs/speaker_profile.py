"""Speaker profiles: Resemblyzer's bundled d-vector encoder, averaged over the speech segments of the takes.

The encoder's weights ship inside the Resemblyzer wheel (pretrained.pt); nothing is downloaded. Each
speech segment of at least 1 s (from the energy VAD, joined across short gaps) is embedded on its own;
the profile is the duration-weighted mean of the segment d-vectors, L2-normalised, so long pauses and
silence do not dilute it. The same encoder scores speaker similarity (cosine) in evaluation.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from livetalking.media.audio_features import RATE, voice_activity
from livetalking.media.audio_io import decode_audio

MIN_SEGMENT_S = 1.0


@lru_cache(maxsize=2)
def encoder(device: str = "cpu"):
    """The d-vector encoder (loaded once per process and device)."""
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device, verbose=False)


def segment_embeddings(audio_16k: np.ndarray, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """((n, 256) d-vectors, (n,) seconds) of the speech segments of 16 kHz mono audio."""
    _, segments = voice_activity(audio_16k)
    vectors, seconds = [], []
    for start, end in segments:
        if end - start < MIN_SEGMENT_S:
            continue
        piece = audio_16k[int(start * RATE): int(end * RATE)]
        vectors.append(encoder(device).embed_utterance(piece))
        seconds.append(end - start)
    return np.array(vectors, np.float32).reshape(-1, 256), np.array(seconds, np.float32)


def pooled(vectors: np.ndarray, seconds: np.ndarray) -> np.ndarray | None:
    """The duration-weighted mean of segment d-vectors, unit length (None without segments)."""
    if not len(vectors):
        return None
    profile = (vectors * seconds[:, None]).sum(axis=0)
    return (profile / np.linalg.norm(profile)).astype(np.float32)


def audio_profile(audio_16k: np.ndarray, device: str = "cpu") -> np.ndarray | None:
    """(256,) unit-length d-vector of the speech in 16 kHz audio, or None if no segment is long enough."""
    return pooled(*segment_embeddings(audio_16k, device))


def take_embeddings(paths: list[Path], device: str = "cpu") -> dict[Path, tuple[np.ndarray, np.ndarray]]:
    """Each take's segment d-vectors and durations, computed once so several profiles can share them."""
    return {path: segment_embeddings(decode_audio(path, RATE), device) for path in paths}


def profile_of(embeddings: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(256,) unit-length d-vector pooled over the segments of several takes."""
    profile = pooled(np.concatenate([v for v, _ in embeddings]), np.concatenate([w for _, w in embeddings]))
    if profile is None:
        raise ValueError("no speech segment of at least 1 s in the takes")
    return profile


def speaker_profile(paths: list[Path], device: str = "cpu") -> np.ndarray:
    """(256,) unit-length d-vector of the speaker of these takes."""
    return profile_of(list(take_embeddings(paths, device).values()))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two d-vectors."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
