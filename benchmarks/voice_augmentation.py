"""Does augmenting the person's takes help the offline voice? Each row trains on the four LibriVox clips plus,
for the augmented rows, a transformed copy of each (noise at 20 dB SNR, a 0.3 s room, speed 0.95/1.05),
picks its step and warp the same way cloning does, and is scored on the held-out fifth clip."""

import numpy as np

from benchmarks.table import print_table
from livetalking.engines.converted_voice import ConvertedVoiceEngine, PitchStats
from livetalking.engines.piper_engine import PiperEngine
from livetalking.media.audio_io import decode_audio
from livetalking.media.augment import add_noise, change_speed, reverberate, room_impulse_response
from livetalking.media.world_vocoder import SP_DIMS, log_f0_stats
from livetalking.train_jobs.speaker_profile import speaker_profile
from livetalking.train_jobs.voice_eval import HeldOut, evaluate
from livetalking.train_jobs.voice_parallel import build_corpus
from livetalking.train_jobs.voice_select import select_candidate, torch_mapper
from livetalking.train_jobs.voice_train import TrainConfig, fit_mapper
from tests.fixtures.media import librivox

RATE = 16000


def augmentations(rng: np.random.Generator) -> dict:
    rir = room_impulse_response(0.3, rng)
    return {
        "none": [],
        "noise 20 dB": [lambda a: add_noise(a, 20.0, rng)],
        "room 0.3 s": [lambda a: reverberate(a, rir)],
        "speed 0.95 + 1.05": [lambda a: change_speed(a, 0.95), lambda a: change_speed(a, 1.05)],
    }


def main() -> None:
    clips = librivox()
    takes = [(decode_audio(path, RATE), text) for path, text in clips[:4]]
    held = clips[4]
    base = PiperEngine()
    profile = speaker_profile([p for p, _ in clips[:4]])
    reference = HeldOut(decode_audio(held[0], RATE), RATE, held[1], speaker_profile([held[0]]))
    rows = []
    for name, transforms in augmentations(np.random.default_rng(0)).items():
        augmented = takes + [(transform(audio), text) for audio, text in takes for transform in transforms]
        corpus = build_corpus(augmented, RATE, base)
        candidates, _ = fit_mapper(corpus.sources, corpus.targets, TrainConfig(steps=300),
                                   groups=corpus.sentence_groups())
        pitch = PitchStats(log_f0_stats(np.concatenate(corpus.source_f0)),
                           log_f0_stats(np.concatenate(corpus.target_f0)))
        step, warp, _ = select_candidate(candidates, pitch, RATE, base, profile, SP_DIMS, TrainConfig.hidden)
        clone = ConvertedVoiceEngine(torch_mapper(candidates[step], SP_DIMS, TrainConfig.hidden), pitch, RATE, base,
                                     warp)
        m = evaluate(clone, base, reference)
        rows.append([name, corpus.frames, step, warp, m["similarity"], m["wer"], m["cepstral_distortion_db"]])
    print_table("Augmenting the takes for the offline voice (held-out LibriVox clip)",
                ["augmentation", "frames", "chosen step", "warp", "similarity", "WER", "MCD dB"], rows)


if __name__ == "__main__":
    main()
