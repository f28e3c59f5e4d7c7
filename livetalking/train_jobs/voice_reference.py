"""Reference checks before a voice is cloned: enough clean speech, not clipped, not drowned in noise.

Each reference take (already a validated WAV) is measured at 16 kHz for speech (energy VAD), SNR
(speech level against the median non-speech level) and clipping (samples at full scale, counted at the
file's own rate). The set fails with one clear code:
- voice.silent: a take has (almost) no speech (speech share < 5 %).
- voice.clipped: more than 0.2 % of a take's samples sit at full scale.
- voice.noisy: a take's SNR is under 12 dB (the estimate reads low on takes without pauses: clean
  LibriVox reading without a pause measures 14-20 dB).
- voice.too_little_speech: all takes together hold less than `min_speech_s` of speech (default 10 s).
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE, VAD_FRAME, voice_activity
from livetalking.media.audio_io import decode_audio
from livetalking.media.quality import audio_stats

MIN_SPEECH_SHARE = 0.05
MAX_CLIPPED = 0.002
MIN_SNR_DB = 12.0
MIN_SPEECH_S = 10.0


@dataclass(frozen=True)
class ReferenceTake:
    """What one reference take measured."""

    name: str
    seconds: float
    speech_seconds: float
    speech_share: float
    snr_db: float | None
    clipped_share: float


def _native_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].codec_context.sample_rate
    return decode_audio(path, rate)


def measure_reference(path: Path, name: str | None = None) -> ReferenceTake:
    """Speech, SNR and clipping of one take."""
    audio = decode_audio(path, RATE)
    flags, _ = voice_activity(audio)
    stats = audio_stats(audio, flags)
    clipped = float(np.mean(np.abs(_native_audio(path)) >= 0.999)) if audio.size else 0.0
    return ReferenceTake(name or path.name, len(audio) / RATE, float(flags.sum()) * VAD_FRAME / RATE,
                         stats.speech_share, None if not np.isfinite(stats.snr_db) else round(stats.snr_db, 1),
                         clipped)


def check_references(paths: list[Path], min_speech_s: float = MIN_SPEECH_S) -> list[ReferenceTake]:
    """Measure every take; raise InvalidInput with the first broken rule, else return the measurements."""
    takes = [measure_reference(p) for p in paths]
    details = {"takes": [asdict(t) for t in takes]}
    for take in takes:
        if take.speech_share < MIN_SPEECH_SHARE:
            raise InvalidInput(f"{take.name} holds almost no speech ({take.speech_share:.0%} of it)",
                               code="voice.silent", details={**details, "rule": f">= {MIN_SPEECH_SHARE} speech"})
        if take.clipped_share > MAX_CLIPPED:
            raise InvalidInput(f"{take.name} clips: {take.clipped_share:.2%} of its samples are at full scale",
                               code="voice.clipped", details={**details, "rule": f"<= {MAX_CLIPPED} clipped"})
        if take.snr_db is not None and take.snr_db < MIN_SNR_DB:
            raise InvalidInput(f"{take.name} is noisy: the speech is only {take.snr_db:.0f} dB above the background",
                               code="voice.noisy", details={**details, "rule": f">= {MIN_SNR_DB} dB SNR"})
    total = sum(t.speech_seconds for t in takes)
    if total < min_speech_s:
        raise InvalidInput(f"the references hold {total:.1f} s of speech; at least {min_speech_s:.0f} s is needed",
                           code="voice.too_little_speech", details={**details, "rule": f">= {min_speech_s} s"})
    return takes
