"""Whisper encoder states as lip-sync audio: 50 per second of any length, windows aligned to video frames,
and speech that reads differently from silence."""

import numpy as np
import pytest

from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import decode_audio
from livetalking.media.lip_audio import lip_audio_windows
from livetalking.media.speech_states import STATE_DIM, STATE_RATE, STATE_WINDOW, encoder_states, state_windows
from tests.fixtures.media import shared


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return decode_audio(shared("speech_en_1.wav"), RATE)


def test_there_are_fifty_states_a_second_and_speech_reads_unlike_silence(speech):
    audio = np.concatenate([np.zeros(RATE, np.float32), speech])
    states = encoder_states(audio)
    assert states.shape == (int(np.ceil(len(audio) / RATE * STATE_RATE)), STATE_DIM)
    silence, talk = states[5:40], states[60:len(states) - 10]
    between = np.linalg.norm(silence.mean(0) - talk.mean(0))
    assert between > 2 * np.linalg.norm(silence - silence.mean(0), axis=1).mean()


def test_audio_longer_than_the_encoder_span_is_encoded_in_pieces(speech):
    long = np.tile(speech, 7)
    assert len(long) / RATE > 30
    states = encoder_states(long)
    assert states.shape == (int(np.ceil(len(long) / RATE * STATE_RATE)), STATE_DIM)
    assert np.isfinite(states).all()


def test_each_video_frame_gets_its_window_starting_sixty_ms_before_it():
    states = np.arange(100, dtype=np.float32)[:, None].repeat(STATE_DIM, 1)
    windows = state_windows(states, video_frames=50, fps=25)
    assert windows.shape == (50, STATE_WINDOW, STATE_DIM)
    assert windows[10, :, 0].tolist() == list(range(17, 27))   # frame 10 starts at state 20
    assert windows[0, :4, 0].tolist() == [0, 0, 0, 0]           # the first state repeats before the audio
    assert windows[49, -1, 0] == 99


def test_an_unknown_feature_is_refused(speech):
    with pytest.raises(ValueError, match="unknown lip-sync audio feature"):
        lip_audio_windows("hubert", speech, np.zeros((10, 80)), 5, 25)
