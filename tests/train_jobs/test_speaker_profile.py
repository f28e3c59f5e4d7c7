"""Speaker profiles from Resemblyzer's bundled encoder on real speech."""

import numpy as np
import pytest

from livetalking.media.audio_io import decode_audio, write_wav
from livetalking.train_jobs.speaker_profile import segment_embeddings, similarity, speaker_profile
from tests.fixtures.media import shared


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The first and second half of one real recording: the same speaker, different words."""
    audio = decode_audio(shared("speech_en_1.wav"), 16000)
    folder = tmp_path_factory.mktemp("halves")
    middle = len(audio) // 2
    return write_wav(folder / "a.wav", audio[:middle], 16000), write_wav(folder / "b.wav", audio[middle:], 16000)


def test_the_same_speaker_scores_higher_than_other_speakers(halves):
    first, second = (speaker_profile([h]) for h in halves)
    same = similarity(first, second)
    others = [similarity(first, speaker_profile([shared(n)])) for n in ("speech_zh_poem.wav", "speech_zh_bus.wav",
                                                                       "talking_face_3.mp4")]
    assert same > 0.75
    assert same > max(others) + 0.1


def test_profiles_are_unit_vectors_weighted_by_speech(halves):
    profile = speaker_profile(list(halves))
    assert profile.shape == (256,) and abs(np.linalg.norm(profile) - 1) < 1e-5
    vectors, seconds = segment_embeddings(decode_audio(halves[0], 16000))
    assert len(vectors) == len(seconds) >= 1 and (seconds >= 1.0).all()


def test_silence_has_no_profile(tmp_path):
    with pytest.raises(ValueError):
        speaker_profile([write_wav(tmp_path / "silence.wav", np.zeros(16000 * 3), 16000)])
