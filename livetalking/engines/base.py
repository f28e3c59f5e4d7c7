"""The engine interface: a whole waveform, or a stream of 20 ms chunks stamped from the start of the utterance."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from livetalking.errors import InvalidInput

CHUNK_S = 0.02
LONG_SENTENCE_WORDS = 12
MIN_PIECE_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
_HAN_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class AudioChunk:
    """20 ms of mono float32 audio starting `start_s` after the utterance began (the last one may be shorter)."""

    samples: np.ndarray
    start_s: float
    sample_rate: int


class VoiceEngine(Protocol):
    sample_rate: int

    def synthesize(self, text: str) -> np.ndarray: ...

    def stream(self, text: str) -> Iterator[AudioChunk]: ...


def rechunk(pieces: Iterable[np.ndarray], sample_rate: int, chunk_s: float = CHUNK_S) -> Iterator[AudioChunk]:
    """Cut audio arriving in pieces of any length into fixed chunks, each yielded as soon as it is complete."""
    size = int(round(sample_rate * chunk_s))
    pending = np.zeros(0, np.float32)
    emitted = 0
    for piece in pieces:
        pending = np.concatenate([pending, np.asarray(piece, np.float32)])
        while len(pending) >= size:
            yield AudioChunk(pending[:size], emitted / sample_rate, sample_rate)
            emitted += size
            pending = pending[size:]
    if len(pending):
        yield AudioChunk(pending, emitted / sample_rate, sample_rate)


def speech_pieces(text: str) -> list[str]:
    """Sentences, with long ones (> 12 words) cut after commas, semicolons and colons into pieces of >= 4 words.

    Speaking piece by piece bounds the time to the first sound by the first piece, not the first sentence.
    """
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if len(sentence.split()) <= LONG_SENTENCE_WORDS:
            pieces.append(sentence)
            continue
        start = len(pieces)
        for clause in _CLAUSE_END.split(sentence):
            if len(pieces) > start and len(pieces[-1].split()) < MIN_PIECE_WORDS:
                pieces[-1] = f"{pieces[-1]} {clause}"
            else:
                pieces.append(clause)
        if len(pieces) - start > 1 and len(pieces[-1].split()) < MIN_PIECE_WORDS:
            tail = pieces.pop()
            pieces[-1] = f"{pieces[-1]} {tail}"
    return [p for p in pieces if p.strip()]


def require_script(text: str, engine: str) -> str:
    """Refuse text in scripts an English-only engine would read out as 'Chinese letter' (Han, kana, hangul)."""
    found = sorted(set(_HAN_KANA_HANGUL.findall(text)))
    if found:
        raise InvalidInput(f"the {engine} engine speaks English only; the text contains {''.join(found[:10])} "
                           "(use the xtts engine for Mandarin)", code="tts.unsupported_script",
                           details={"characters": found[:50]})
    if not text.strip():
        raise InvalidInput("there is no text to speak", code="tts.empty_text")
    return text
