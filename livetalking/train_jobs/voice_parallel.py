"""Parallel training pairs for the offline voice: the base voice says what the person said, aligned by DTW.

Each reference take is cut into units with a text: the transcript the user gave (takes up to
`WHOLE_TAKE_S` long), otherwise the sentences whisper finds with their timestamps. The base voice
synthesises each unit's text; both sides are trimmed to their speech, analysed by WORLD, and the
person's frames are warped onto the base voice's time axis by dynamic time warping over the
per-utterance normalised coded envelopes (the energy coefficient left out).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from livetalking.engines.base import VoiceEngine
from livetalking.media.audio_features import RATE, VAD_FRAME, voice_activity
from livetalking.media.audio_io import resample
from livetalking.media.transcribe import transcribe, words
from livetalking.media.world_vocoder import WorldFrames, analyze

WHOLE_TAKE_S = 20.0
PAD_S = 0.05
MIN_UNIT_S = 0.8


@dataclass(frozen=True)
class Unit:
    audio: np.ndarray
    text: str


@dataclass
class ParallelCorpus:
    """Aligned (source, target) coded envelopes per unit, and every frame's f0 on each side."""

    rate: int
    sources: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    source_f0: list[np.ndarray] = field(default_factory=list)
    target_f0: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return int(sum(len(s) for s in self.sources))

    def sentence_groups(self, overlap: float = 0.5) -> list[int]:
        """A group id per unit; units whose word sets overlap by `overlap` (Jaccard) or more share a group."""
        sets = [set(words(t)) for t in self.texts]
        parent = list(range(len(sets)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(sets)):
            for j in range(i):
                union = sets[i] | sets[j]
                if union and len(sets[i] & sets[j]) / len(union) >= overlap:
                    parent[root(i)] = root(j)
        return [root(i) for i in range(len(sets))]


def trim_to_speech(audio: np.ndarray, rate: int) -> np.ndarray:
    """The stretch from the first to the last detected speech, with a little margin."""
    _, segments = voice_activity(resample(audio, rate, RATE))
    if not segments:
        return audio
    start = max(0, int((segments[0][0] - PAD_S) * rate))
    end = min(len(audio), int((segments[-1][1] + PAD_S) * rate) + VAD_FRAME * rate // RATE)
    return audio[start:end]


def units_of_take(audio: np.ndarray, rate: int, text: str | None, device: str = "cpu") -> list[Unit]:
    """The take as one unit (short take with its transcript) or as the sentences whisper finds."""
    if text and len(audio) / rate <= WHOLE_TAKE_S:
        return [Unit(trim_to_speech(audio, rate), text)]
    units = []
    for segment in transcribe(resample(audio, rate, RATE), device):
        piece = audio[max(0, int((segment.start_s - PAD_S) * rate)): int((segment.end_s + PAD_S) * rate)]
        if len(piece) / rate >= MIN_UNIT_S:
            units.append(Unit(trim_to_speech(piece, rate), segment.text))
    return units


def _normalised(coded_sp: np.ndarray) -> np.ndarray:
    body = coded_sp[:, 1:]
    return (body - body.mean(axis=0)) / (body.std(axis=0) + 1e-6)


def align(source: WorldFrames, target: WorldFrames) -> np.ndarray:
    """Target envelopes warped onto the source frames (the mean of the target frames DTW pairs with each)."""
    import librosa

    _, path = librosa.sequence.dtw(X=_normalised(source.coded_sp).T, Y=_normalised(target.coded_sp).T,
                                   metric="euclidean")
    sums = np.zeros_like(source.coded_sp)
    counts = np.zeros(len(source.coded_sp))
    for i, j in path:
        sums[i] += target.coded_sp[j]
        counts[i] += 1
    return sums / np.maximum(counts, 1)[:, None]


def build_corpus(takes: list[tuple[np.ndarray, str | None]], rate: int, base: VoiceEngine,
                 progress: Callable[[float], None] = lambda _: None, device: str = "cpu") -> ParallelCorpus:
    """Parallel pairs from takes (audio at `rate`, transcript or None) and the base voice."""
    corpus = ParallelCorpus(rate)
    for number, (audio, text) in enumerate(takes):
        for unit in units_of_take(audio, rate, text, device):
            spoken = trim_to_speech(resample(base.synthesize(unit.text), base.sample_rate, rate), rate)
            source, target = analyze(spoken, rate), analyze(unit.audio, rate)
            corpus.sources.append(source.coded_sp.astype(np.float32))
            corpus.targets.append(align(source, target).astype(np.float32))
            corpus.source_f0.append(source.f0)
            corpus.target_f0.append(target.f0)
            corpus.texts.append(unit.text)
        progress((number + 1) / len(takes))
    return corpus
