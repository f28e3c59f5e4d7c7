"""Evaluating a cloned voice, and the gate that decides whether it may become active.

Metrics (all on English sentences that are not in the takes):
- similarity: cosine of the d-vector of the cloned speech (all sentences) and the d-vector of the
  held-out reference take (Resemblyzer); base_similarity: the same for the unconverted base voice.
- wer / base_wer: word error rate of whisper tiny.en's transcript of the synthesised sentences.
- cepstral_distortion_db (the approximate quality score): the held-out take's own text is spoken by
  the clone and compared with the person's real recording, frame by frame after DTW, as the
  mel-cepstral distortion 10/ln10 * sqrt(2 * sum (c_d - c'_d)^2) over WORLD's coded envelope
  (coefficients 1..39). Lower is better; it measures spectral closeness to the real person, not
  naturalness. base_cepstral_distortion_db is the base voice's value.
- rtf: synthesis seconds per second of audio; first_chunk_ms: time to the first 20 ms chunk.
Languages other than English are scored on their own sentences, without WER (whisper tiny.en is
English only) and without a base voice (the bundled base voice speaks English only).
"""

import time
from dataclasses import dataclass

import numpy as np

from livetalking.engines.base import VoiceEngine
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import resample
from livetalking.media.transcribe import transcript, word_error_rate
from livetalking.media.world_vocoder import analyze
from livetalking.settings import Settings
from livetalking.train_jobs.speaker_profile import audio_profile, similarity
from livetalking.train_jobs.voice_parallel import align, trim_to_speech

EVAL_SENTENCES = (
    "Welcome to our store, today every coat in the window is half price.",
    "The train to the airport leaves from platform four at ten past nine.",
    "Please hold the button for three seconds until the light turns green.",
    "We will call you back tomorrow morning with the results of the test.",
)


MANDARIN_SENTENCES = ("今天的天气很好，我们去公园散步吧。", "请在三点以前把文件发给我。")


@dataclass(frozen=True)
class HeldOut:
    """A reference recording the clone was not trained on: its 16 kHz audio, its d-vector and its text."""

    audio: np.ndarray
    rate: int
    text: str | None
    profile: np.ndarray


def cepstral_distortion(spoken: np.ndarray, real: np.ndarray, rate: int) -> float:
    """Mel-cepstral distortion (dB) between two renditions of the same words, after DTW."""
    source, target = analyze(trim_to_speech(spoken, rate), rate), analyze(trim_to_speech(real, rate), rate)
    aligned = align(source, target)
    diff = source.coded_sp[:, 1:] - aligned[:, 1:]
    return float(10 / np.log(10) * np.mean(np.sqrt(2 * (diff ** 2).sum(axis=1))))


def _speak(engine: VoiceEngine, sentences) -> tuple[np.ndarray, float, float]:
    """(16 kHz audio of all sentences, real-time factor, first-chunk milliseconds of the first sentence)."""
    started = time.perf_counter()
    next(iter(engine.stream(sentences[0])))
    first_ms = (time.perf_counter() - started) * 1000
    pieces, seconds, spent = [], 0.0, 0.0
    for sentence in sentences:
        started = time.perf_counter()
        audio = engine.synthesize(sentence)
        spent += time.perf_counter() - started
        seconds += len(audio) / engine.sample_rate
        pieces.append(resample(audio, engine.sample_rate, RATE))
    return np.concatenate(pieces), spent / max(seconds, 1e-9), first_ms


def evaluate(clone: VoiceEngine, base: VoiceEngine | None, held_out: HeldOut, sentences=EVAL_SENTENCES,
             english: bool = True) -> dict:
    """Every metric of the clone, beside the base voice's where there is one (WER for English only)."""
    metrics: dict[str, float] = {}
    reference = " ".join(sentences)
    engines = [("", clone)] + ([("base_", base)] if base is not None else [])
    for prefix, engine in engines:
        audio, rtf, first_ms = _speak(engine, list(sentences))
        profile = audio_profile(audio)
        metrics[f"{prefix}similarity"] = round(similarity(profile, held_out.profile), 4) if profile is not None else 0.0
        if english:
            metrics[f"{prefix}wer"] = round(word_error_rate(reference, transcript(audio)), 4)
        if held_out.text:
            spoken = resample(engine.synthesize(held_out.text), engine.sample_rate, held_out.rate)
            metrics[f"{prefix}cepstral_distortion_db"] = round(cepstral_distortion(spoken, held_out.audio,
                                                                                   held_out.rate), 3)
        if not prefix:
            metrics["rtf"], metrics["first_chunk_ms"] = round(rtf, 4), round(first_ms, 1)
    if base is not None:
        metrics["similarity_gain"] = round(metrics["similarity"] - metrics["base_similarity"], 4)
    return metrics


@dataclass(frozen=True)
class GateThresholds:
    min_similarity: float
    min_similarity_gain: float
    max_wer: float
    max_rtf: float


def gate(metrics: dict, thresholds: GateThresholds) -> list[str]:
    """The rules the version fails (empty: it passes)."""
    failed = []
    if metrics["similarity"] < thresholds.min_similarity:
        failed.append(f"similarity {metrics['similarity']:.3f} < {thresholds.min_similarity}")
    if "similarity_gain" in metrics and metrics["similarity_gain"] < thresholds.min_similarity_gain:
        failed.append(f"similarity gain over the base voice {metrics['similarity_gain']:.3f} "
                      f"< {thresholds.min_similarity_gain}")
    if "wer" in metrics and metrics["wer"] > thresholds.max_wer:
        failed.append(f"word error rate {metrics['wer']:.3f} > {thresholds.max_wer}")
    if metrics["rtf"] > thresholds.max_rtf:
        failed.append(f"real-time factor {metrics['rtf']:.3f} > {thresholds.max_rtf}")
    return failed


def voice_gate(metrics: dict, settings: Settings) -> list[str]:
    """The gate's failures for a voice version (empty: promote it)."""
    return gate(metrics, GateThresholds(settings.voice_gate_min_similarity, settings.voice_gate_min_similarity_gain,
                                        settings.voice_gate_max_wer, settings.voice_gate_max_rtf))
