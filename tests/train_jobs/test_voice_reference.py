"""Reference checks for voice cloning on real speech and on broken versions of it."""

import numpy as np
import pytest

from livetalking.errors import InvalidInput
from livetalking.media.audio_io import decode_audio
from livetalking.media.audio_io import write_wav as write_wav_pcm
from livetalking.train_jobs.voice_reference import check_references, measure_reference
from tests.fixtures.media import shared, write_wav

SPEECH = ["speech_en_1.wav", "speech_zh_poem.wav", "speech_zh_bus.wav"]


def test_real_speech_passes_and_is_measured():
    takes = check_references([shared(n) for n in SPEECH])
    assert sum(t.speech_seconds for t in takes) >= 10
    assert all(t.snr_db is None or t.snr_db > 15 for t in takes)
    assert all(t.clipped_share < 0.002 for t in takes)


def test_too_little_speech_is_refused():
    with pytest.raises(InvalidInput) as raised:
        check_references([shared("speech_zh_bus.wav")])
    assert raised.value.code == "voice.too_little_speech" and raised.value.details["takes"]


@pytest.mark.parametrize("damage,code", [("silent", "voice.silent"), ("clipped", "voice.clipped"),
                                         ("noisy", "voice.noisy")])
def test_damaged_references_are_refused(tmp_path, damage, code):
    speech = decode_audio(shared("speech_en_1.wav"), 24000)
    if damage == "silent":
        broken = np.random.default_rng(0).normal(0, 1e-4, len(speech))
    elif damage == "clipped":
        broken = speech * 12
    else:
        broken = speech + np.random.default_rng(0).normal(0, np.sqrt(np.mean(speech ** 2)), len(speech))
    with pytest.raises(InvalidInput) as raised:
        check_references([write_wav_pcm(tmp_path / f"{damage}.wav", broken, 24000), shared("speech_zh_poem.wav")])
    assert raised.value.code == code


def test_a_tone_counts_as_sound_but_the_measure_is_stable(tmp_path):
    take = measure_reference(write_wav(tmp_path / "tone.wav", 3, 16000))
    assert take.seconds == pytest.approx(3.0, abs=0.01) and take.clipped_share == 0.0
