"""Choosing among the mapper's training candidates, and the formant warp, by what a listener would notice.

Each candidate converts the same base-voice renditions of `SELECTION_SENTENCES` (synthesised once,
so every candidate hears identical input); its score is the speaker similarity of the result to the
training takes' d-vector minus twice its word error rate (whisper tiny.en): a clone that mumbles is
worse than one that sounds a little less like the person. Neither the held-out take nor
the evaluation sentences are used here, so the evaluation stays unbiased.
"""

import numpy as np

from livetalking.engines.converted_voice import PitchStats, convert
from livetalking.engines.piper_engine import PiperEngine
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import resample
from livetalking.media.transcribe import transcript, word_error_rate
from livetalking.train_jobs.speaker_profile import audio_profile, similarity

WARPS = (1.0, 0.96, 1.04, 1.08, 1.12)
SELECTION_SENTENCES = ("Our team will answer every question you send us before the end of the day.",
                       "Turn left at the bakery, and the museum is the second building on the right.",
                       "My sister planted tomatoes, beans and sunflowers behind the old garage.",
                       "The meeting moved to Thursday because half of the office caught a cold.")
WER_WEIGHT = 2.0


def torch_mapper(state: dict, dims: int, hidden: int):
    """A candidate's state_dict as a numpy -> numpy mapper."""
    import torch

    from livetalking.nets.spectral_mapper import SpectralMapper

    model = SpectralMapper.from_state(state, dims, hidden)

    def mapper(coded_sp: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(coded_sp)[None])[0].numpy()

    return mapper


def select_candidate(candidates: dict[int, dict], pitch: PitchStats, rate: int, base: PiperEngine,
                     profile: np.ndarray, dims: int, hidden: int) -> tuple[int, float, dict[str, dict]]:
    """(the best step, the best formant warp, {label: {similarity, wer, score}}).

    The step is chosen first (no warp), then the warp of the envelope for that step.
    """
    spoken = [resample(base.synthesize(s), base.sample_rate, rate) for s in SELECTION_SENTENCES]
    reference = " ".join(SELECTION_SENTENCES)

    def score(mapper, warp: float) -> dict:
        audio = np.concatenate([resample(convert(s, rate, mapper, pitch, warp), rate, RATE) for s in spoken])
        voice = audio_profile(audio)
        sim = similarity(voice, profile) if voice is not None else 0.0
        wer = word_error_rate(reference, transcript(audio))
        return {"similarity": round(sim, 4), "wer": round(wer, 4), "score": round(sim - WER_WEIGHT * wer, 4)}

    def best(table: dict[str, dict]) -> str:
        """The label with the highest score; ties go to the first (step 0, warp 1.0)."""
        return max(table, key=lambda k: table[k]["score"])

    steps = {f"step {step}": score(torch_mapper(state, dims, hidden), 1.0)
             for step, state in sorted(candidates.items())}
    step = int(best(steps).split()[1])
    mapper = torch_mapper(candidates[step], dims, hidden)
    warps = {f"warp {w}": (steps[f"step {step}"] if w == 1.0 else score(mapper, w)) for w in WARPS}
    return step, float(best(warps).split()[1]), {**steps, **warps}
