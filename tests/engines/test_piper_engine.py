"""The offline base voice: speech out, 20 ms chunks with timestamps, and what it does with Mandarin."""

import time

import numpy as np
import pytest

from livetalking.engines.base import rechunk
from livetalking.engines.piper_engine import PiperEngine
from livetalking.errors import InvalidInput
from livetalking.media.audio_features import extract_features
from livetalking.media.augment import change_speed


@pytest.fixture(scope="module")
def engine():
    return PiperEngine()


def to_16k(audio, rate):
    return change_speed(audio, rate / 16000)


def test_the_base_voice_speaks_english(engine):
    audio = engine.synthesize("Hello there. This is a short test of the base voice.")
    assert engine.sample_rate == 22050
    assert 1.5 < len(audio) / engine.sample_rate < 6.0
    features = extract_features(to_16k(audio, engine.sample_rate))
    voiced = features.f0_hz[features.f0_hz > 0]
    assert features.speech_share > 0.6 and 70 < np.median(voiced) < 250


def test_the_stream_is_20_ms_chunks_on_one_clock_and_matches_the_whole(engine):
    text = "First sentence here. And a second one follows."
    chunks = list(engine.stream(text))
    size = int(round(engine.sample_rate * 0.02))
    assert all(len(c.samples) == size for c in chunks[:-1]) and 0 < len(chunks[-1].samples) <= size
    assert [round(c.start_s, 6) for c in chunks] == [round(i * size / engine.sample_rate, 6)
                                                     for i in range(len(chunks))]
    streamed, whole = np.concatenate([c.samples for c in chunks]), engine.synthesize(text)
    assert abs(len(streamed) - len(whole)) < 0.15 * len(whole)  # piper samples durations: runs differ a little


def test_the_first_chunk_comes_before_the_whole_utterance_is_made(engine):
    text = " ".join(["This sentence is one of several in a longer paragraph."] * 6)
    began = time.perf_counter()
    stream = engine.stream(text)
    next(stream)
    first = time.perf_counter() - began
    list(stream)
    total = time.perf_counter() - began
    assert first < total / 2


def test_rechunk_handles_odd_piece_sizes():
    pieces = [np.ones(7), np.ones(500), np.ones(1)]
    chunks = list(rechunk(pieces, 16000))
    assert [len(c.samples) for c in chunks] == [320, 188] and chunks[1].start_s == 0.02


@pytest.mark.parametrize("text", ["你好，世界。", "Mixed 中文 and English.", "こんにちは"])
def test_mandarin_and_other_cjk_text_is_refused_with_a_clear_code(engine, text):
    with pytest.raises(InvalidInput) as raised:
        engine.synthesize(text)
    assert raised.value.code == "tts.unsupported_script" and "xtts" in raised.value.message


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_refused(engine, text):
    with pytest.raises(InvalidInput) as raised:
        list(engine.stream(text))
    assert raised.value.code == "tts.empty_text"


def test_concurrent_requests_each_get_their_whole_text():
    from concurrent.futures import ThreadPoolExecutor

    engine = PiperEngine()
    texts = ["One two three.", "The quick brown fox jumps over the lazy dog.", "Good night."] * 2
    with ThreadPoolExecutor(4) as pool:
        lengths = list(pool.map(lambda t: len(engine.synthesize(t)), texts))
    assert all(n > 0 for n in lengths)
    assert lengths[1] > max(lengths[0], lengths[2]) and lengths[4] > max(lengths[3], lengths[5])


def test_long_sentences_are_cut_at_clauses_into_pieces_of_four_words_or_more():
    from livetalking.engines.base import speech_pieces

    long = ("Welcome back to the evening show, where tonight we look at three phones, compare their cameras "
            "in the dark, and tell you which one is worth it. Thanks! Short one, fine.")
    assert speech_pieces(long) == ["Welcome back to the evening show,", "where tonight we look at three phones,",
                                   "compare their cameras in the dark,", "and tell you which one is worth it.",
                                   "Thanks!", "Short one, fine."]
    assert speech_pieces("Hi, a, b, c, d, e, f, g, h, i, j, k, l, m, n.") == ["Hi, a, b, c,", "d, e, f, g,",
                                                                          "h, i, j, k, l, m, n."]
    assert speech_pieces("One, two three four five six seven eight nine ten eleven twelve thirteen, end.") == [
        "One, two three four five six seven eight nine ten eleven twelve thirteen, end."]


def test_a_long_sentence_spoken_in_pieces_keeps_every_word():
    from livetalking.media.audio_io import resample
    from livetalking.media.transcribe import transcript, word_error_rate

    text = ("Tonight we will look at the three phones everybody has been asking about, compare their cameras "
            "in the dark, and tell you which one is worth your money this winter.")
    engine = PiperEngine()
    audio = resample(engine.synthesize(text), engine.sample_rate, 16000)
    assert word_error_rate(text, transcript(audio)) < 0.2
