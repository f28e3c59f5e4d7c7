"""Which audio features drive a person's mouth from voices it never heard? The lip head (ridge regression from
an audio window to the 40 lip landmarks, see train_jobs/lip_model) fitted per feature on one person's take
(its first 80 %), then judged by the mouth-opening correlation of its prediction with the real mouth:

- own tail: the person's held-out last 20 %, their own voice;
- other speakers: every other real take of ../shared/media, driven by that speaker's voice and compared with
  that speaker's real mouth (mouth opening follows what is said, whoever says it);
- piper: the bundled piper voice says what the other speaker said (transcribed by whisper tiny.en); the
  speaker's real mouth is warped onto piper's timeline by DTW of the two recordings' normalised log-mel.

Features (media/lip_audio): `mel` (the 16 x 80 log-mel window), `whisper` (10 x 384 encoder states of whisper
tiny.en, media/speech_states), `whisper_mel` (both side by side, the mel resampled to the 10 steps).

python -m benchmarks.lip_features [--takes NAME ...]
"""

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.table import print_table
from livetalking.engines.piper_engine import PiperEngine
from livetalking.media.audio_features import RATE, log_mel
from livetalking.media.audio_io import decode_audio, resample
from livetalking.media.lip_audio import lip_audio_windows
from livetalking.media.transcribe import transcript
from livetalking.platform.store import LocalStore
from livetalking.train_jobs.avatar_data import split_held_out
from livetalking.train_jobs.clip_loader import load_clip
from livetalking.train_jobs.avatar_train import lip_targets
from livetalking.train_jobs.lip_model import fit_lips, opening
from tests.fixtures.avatars import prepare_shared_take, settings_with_base_models

TAKES = ("talking_face_kh", "talking_face_aoc", "talking_face_1", "talking_face_3", "talking_face_4",
         "greenscreen_child_speech", "singing_face_d6")
FEATURES = ("mel", "whisper", "whisper_mel")
SIZE = 96


def features_of(audio_16k: np.ndarray, frames: int, fps: float) -> dict[str, np.ndarray]:
    """Each feature's per-video-frame window of one recording."""
    mel = log_mel(audio_16k)
    return {f: lip_audio_windows(f, audio_16k, mel, frames, fps) for f in FEATURES}


@dataclass(frozen=True)
class Take:
    name: str
    fps: float
    audio: np.ndarray          # 16 kHz, normalised
    opening: np.ndarray        # (N,) real inner-lip gap, crop units; NaN without a face
    lips: np.ndarray           # (N, 40, 2) lip targets; NaN without a face
    features: dict[str, np.ndarray]


def load_take(name: str, settings, store: LocalStore) -> Take:
    manifest = prepare_shared_take(settings, store, name)
    clip = load_clip(store, manifest, SIZE, "mel")
    wav = manifest.take_file("audio_16k.wav")
    with store.open_local(wav.key, wav.sha256) as path:
        audio = decode_audio(path, RATE)
    lips = np.full((clip.frames, 40, 2), np.nan, np.float32)
    faces = np.nonzero(clip.has_face)[0]
    lips[faces] = lip_targets(clip, faces, SIZE)
    return Take(name, clip.fps, audio, opening(lips), lips, features_of(audio, clip.frames, clip.fps))


def corr(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[keep], b[keep])[0, 1]) if keep.sum() > 2 else float("nan")


def dtw_warp(real_audio: np.ndarray, said_audio: np.ndarray, values: np.ndarray, fps: float,
             frames: int) -> np.ndarray:
    """`values` per video frame of real_audio, carried onto `frames` video frames of said_audio by DTW."""
    import librosa

    def normalised(audio):
        mel = log_mel(audio)
        return ((mel - mel.mean(0)) / (mel.std(0) + 1e-6)).T

    _, path = librosa.sequence.dtw(X=normalised(said_audio), Y=normalised(real_audio), metric="cosine")
    mel_fps = RATE / 200
    out = np.full(frames, np.nan)
    sums, counts = np.zeros(frames), np.zeros(frames)
    for i, j in path:
        k, m = int(i / mel_fps * fps), int(j / mel_fps * fps)
        if k < frames and m < len(values) and np.isfinite(values[m]):
            sums[k] += values[m]
            counts[k] += 1
    out[counts > 0] = sums[counts > 0] / counts[counts > 0]
    return out


def piper_drive(take: Take, piper: PiperEngine) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Piper's features for what the take says, and the take's real mouth opening warped onto piper's timeline."""
    said = resample(piper.synthesize(transcript(take.audio)), piper.sample_rate, RATE)
    frames = int(len(said) / RATE * take.fps)
    return features_of(said, frames, take.fps), dtw_warp(take.audio, said, take.opening, take.fps, frames)


def main(names: tuple[str, ...] = TAKES) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_with_base_models(Path(tmp), video_max_duration_s=120.0)
        store = LocalStore(settings.models_root)
        takes = [load_take(n, settings, store) for n in names]
    piper = PiperEngine()
    driven = {t.name: piper_drive(t, piper) for t in takes}
    rows, summary = [], {f: {"own": [], "other": [], "piper": []} for f in FEATURES}
    for source in takes:
        train, tail = split_held_out(len(source.opening))
        faces = np.array([i for i in train if np.isfinite(source.opening[i])])
        for feature in FEATURES:
            fit = fit_lips(source.features[feature][faces], source.lips[faces])
            own = corr(opening(fit.predict(source.features[feature][tail.start:])), source.opening[tail.start:])
            others = [corr(opening(fit.predict(t.features[feature])), t.opening) for t in takes if t is not source]
            pipers = [corr(opening(fit.predict(driven[t.name][0][feature])), driven[t.name][1]) for t in takes
                      if t is not source]
            summary[feature]["own"].append(own)
            summary[feature]["other"].extend(others)
            summary[feature]["piper"].extend(pipers)
            rows.append([source.name, feature, fit.strength, own, float(np.nanmedian(others)),
                         float(np.nanmin(others)), float(np.nanmedian(pipers))])
    print_table("Lip head by audio feature: mouth-opening correlation with the real mouth (per source take)",
                ["trained on", "feature", "ridge", "own tail", "other speakers (median)", "(worst)",
                 "piper saying their words (median)"], rows)
    print_table("Over all source takes: mouth-opening correlation, median / mean",
                ["feature", "own tail", "other speakers", "piper"],
                [[f, *(f"{np.nanmedian(s[k]):.2f} / {np.nanmean(s[k]):.2f}" for k in ("own", "other", "piper"))]
                 for f, s in summary.items()])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", nargs="+", default=list(TAKES))
    main(tuple(parser.parse_args().takes))
