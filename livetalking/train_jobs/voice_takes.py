"""The reference takes of a clone as the cloning engines receive them: file, transcript, rate and held-out split."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from livetalking.errors import InvalidInput

MIN_RATE = 16000
WIDE_RATE = 22050

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ReferenceTake:
    """One reference recording and, when known, what is said in it."""

    path: Path
    text: str | None = None


def _rate_of(path: Path) -> int:
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InvalidInput(f"{path.name} has no audio stream", code="voice.not_audio")
            return int(container.streams.audio[0].codec_context.sample_rate)
    except av.error.FFmpegError as e:
        raise InvalidInput(f"{path.name} cannot be decoded as audio: {e}", code="voice.not_audio") from e


def conversion_rate(paths: list[Path]) -> int:
    """22.05 kHz when every take has it, else 16 kHz; takes under 16 kHz are refused."""
    rates = [_rate_of(p) for p in paths]
    if min(rates) < MIN_RATE:
        raise InvalidInput(f"reference audio must be sampled at >= {MIN_RATE} Hz; one is {min(rates)} Hz",
                           code="voice.sample_rate", details={"rates": rates})
    return WIDE_RATE if min(rates) >= WIDE_RATE else MIN_RATE


def split_held_out(takes: list[ReferenceTake]) -> tuple[list[ReferenceTake], ReferenceTake, bool]:
    """(training takes, evaluation take, whether it was really held out): the last take, when there are two."""
    if len(takes) >= 2:
        return takes[:-1], takes[-1], True
    return takes, takes[0], False
