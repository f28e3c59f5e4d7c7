"""clone_speaker on real speech: the offline voice is trained, exported, evaluated, registered and gated."""

import hashlib
import json

import numpy as np
import pytest
import torch
from sqlmodel import select

from livetalking.engines.loader import engine_for
from livetalking.engines.voice_bundle import engine_from_files
from livetalking.errors import InvalidInput, MissingBaseModel
from livetalking.media.audio_features import RATE, voice_activity
from livetalking.media.audio_io import decode_audio, resample, write_wav
from livetalking.platform.db import session_scope
from livetalking.platform.tables import ModelVersion, Voice
from livetalking.registry.service import stored_files
from livetalking.serve_apps.api.app import build_context
from livetalking.train_jobs.speaker_profile import audio_profile, similarity, speaker_profile
from livetalking.train_jobs.voice_clone import clone_speaker
from livetalking.train_jobs.voice_takes import ReferenceTake
from tests.conftest import make_settings
from tests.fixtures.media import librivox, shared
from tests.fixtures.voices import new_voice_target


@pytest.fixture
def voice_target(tmp_path):
    def make(**overrides):
        settings = make_settings(tmp_path, voice_train_steps=300, **overrides)
        return settings, new_voice_target(build_context(settings), "own", "Reader")
    return make


def references() -> list[ReferenceTake]:
    return [ReferenceTake(path, text) for path, text in librivox()]


def test_clone_beats_the_base_voice_and_registers_a_verified_version(voice_target):
    settings, target = voice_target(voice_gate_min_similarity=0.0, voice_gate_max_wer=1.0)
    version = clone_speaker(references(), engine="offline", language="en", target=target, settings=settings)
    m = version.metrics
    assert version.status == "active" and version.version == "v1" and not version.gate_failures
    assert m["held_out"] == 1.0 and m["onnx_max_abs_diff"] < 1e-3
    assert m["similarity"] > m["base_similarity"] + 0.05
    assert 0 < m["cepstral_distortion_db"] < 30 and 0 < m["base_cepstral_distortion_db"] < 30
    with session_scope(target.db) as session:
        model = session.get(ModelVersion, version.model_id)
        voice = session.get(Voice, target.persona_id)
        assert voice.active_version_id == model.id and voice.state == "ready"
        assert model.backbone == "offline" and model.sample_rate == 16000 and set(model.formats) == {"pt", "onnx"}
        files = stored_files(model)
    assert "/models/voices/" in files["onnx"]["key"]
    config = json.loads(target.store.get_bytes(files["voice.json"]["key"], files["voice.json"]["sha256"]))
    assert config["sample_rate"] == 16000 and config["pitch"]["target"][0] < config["pitch"]["source"][0]

    engine = engine_from_files(files, target.store)
    audio = engine.synthesize("Good evening, and thank you for joining our show tonight.")
    flags, _ = voice_activity(resample(audio, engine.sample_rate, RATE))
    assert engine.sample_rate == 16000 and flags.mean() > 0.5
    held_out = speaker_profile([librivox()[-1][0]])
    base = audio_profile(resample(engine.base.synthesize("Good evening, and thank you for joining our show tonight."),
                                  engine.base.sample_rate, RATE))
    assert similarity(audio_profile(resample(audio, 16000, RATE)), held_out) > similarity(base, held_out) + 0.05


def _nothing_left(target) -> None:
    with session_scope(target.db) as session:
        assert not list(session.exec(select(ModelVersion)))
        assert session.get(Voice, target.persona_id).active_version_id is None
    assert not [p for p in target.store.root.rglob("*") if p.is_file()]


def _broken(tmp_path, kind: str) -> list[ReferenceTake]:
    clips = references()
    speech = decode_audio(clips[0].path, 16000)
    if kind == "short":
        return [ReferenceTake(shared("speech_en_1.wav"))]
    if kind == "clipped":
        return [ReferenceTake(write_wav(tmp_path / "loud.wav", speech * 12, 16000), clips[0].text), *clips[1:]]
    if kind == "silent":
        quiet = np.random.default_rng(0).normal(0, 1e-4, len(speech))
        return [ReferenceTake(write_wav(tmp_path / "quiet.wav", quiet, 16000)), *clips[1:]]
    if kind == "text":
        (tmp_path / "notes.wav").write_text("this is not audio at all\n" * 100)
        return [ReferenceTake(tmp_path / "notes.wav"), *clips[1:]]
    if kind == "narrowband":
        return [ReferenceTake(write_wav(tmp_path / "phone.wav", resample(speech, 16000, 8000), 8000)), *clips[1:]]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind,code", [("short", "voice.too_little_speech"), ("clipped", "voice.clipped"),
                                       ("silent", "voice.silent"), ("text", "voice.not_audio"),
                                       ("narrowband", "voice.sample_rate")])
def test_bad_references_are_refused_and_leave_nothing(voice_target, tmp_path, kind, code):
    settings, target = voice_target()
    with pytest.raises(InvalidInput) as raised:
        clone_speaker(_broken(tmp_path, kind), target=target, settings=settings)
    assert raised.value.code == code
    _nothing_left(target)


@pytest.mark.parametrize("engine,language,code", [("offline", "zh", "voice.language_unsupported"),
                                                  ("wavenet", "en", "voice.unknown_engine")])
def test_engine_and_language_are_checked_first(voice_target, engine, language, code):
    settings, target = voice_target()
    with pytest.raises(InvalidInput) as raised:
        clone_speaker(references(), engine=engine, language=language, target=target, settings=settings)
    assert raised.value.code == code


def test_a_version_below_the_gate_stays_a_candidate_and_flags_the_voice(voice_target):
    settings, target = voice_target(voice_gate_min_similarity=0.99)
    first = clone_speaker(references(), target=target, settings=settings)
    assert first.status == "candidate" and any("similarity" in f for f in first.gate_failures)
    with session_scope(target.db) as session:
        voice = session.get(Voice, target.persona_id)
        assert voice.state == "review" and voice.active_version_id is None and voice.metrics["similarity"] > 0


def test_xtts_clones_zero_shot_with_cached_latents_and_speaks_through_the_loader(voice_target, tiny_xtts_models):
    settings, target = voice_target(models_root=tiny_xtts_models)
    version = clone_speaker(references(), engine="xtts", language="en", target=target, settings=settings)
    assert version.backbone == "xtts" and version.version == "v1"
    # a random checkpoint says nothing intelligible: the gate keeps it a candidate and flags the voice
    assert version.status == "candidate" and version.gate_failures
    assert {"similarity", "base_similarity", "wer", "rtf", "first_chunk_ms"} <= set(version.metrics)
    with session_scope(target.db) as session:
        model = session.get(ModelVersion, version.model_id)
        assert session.get(Voice, target.persona_id).state == "review"
    assert model.sample_rate == 24000 and model.formats == ["pt"] and model.config["language"] == "en"
    engine = engine_for(model, target.store, settings)
    assert engine.synthesize("Hello there.").size > 0


def test_a_mandarin_xtts_voice_is_evaluated_without_wer_and_speaks_mandarin(voice_target, tiny_xtts_models):
    settings, target = voice_target(models_root=tiny_xtts_models, voice_min_speech_s=5.0)
    takes = [ReferenceTake(shared("speech_zh_poem.wav")), ReferenceTake(shared("speech_zh_bus.wav"))]
    version = clone_speaker(takes, engine="xtts", language="zh-cn", target=target, settings=settings)
    assert "wer" not in version.metrics and "base_similarity" not in version.metrics
    with session_scope(target.db) as session:
        model = session.get(ModelVersion, version.model_id)
    assert engine_for(model, target.store, settings).synthesize("床前明月光").size > 0


def test_xtts_fine_tunes_its_gpt_on_the_takes_and_serves_the_new_weights(voice_target, tiny_xtts_models):
    settings, target = voice_target(models_root=tiny_xtts_models, voice_xtts_finetune_steps=2,
                                    voice_xtts_finetune_lr=1e-3)
    version = clone_speaker(references(), engine="xtts", target=target, settings=settings, fine_tune=True)
    assert version.metrics["finetune_steps"] == 2 and version.metrics["finetune_ray_train"] == 0.0
    with session_scope(target.db) as session:
        model = session.get(ModelVersion, version.model_id)
    tuned = model.config["files"]["model.pth"]
    base = tiny_xtts_models / "base" / "xtts_v2" / "model.pth"
    assert model.config["fine_tuned"] and tuned["sha256"] != hashlib.sha256(base.read_bytes()).hexdigest()
    with target.store.open_local(tuned["key"], sha256=tuned["sha256"]) as path:
        weights = torch.load(path, weights_only=True)["model"]
    original = torch.load(base, weights_only=True)["model"]
    assert not torch.equal(weights["gpt.mel_head.weight"], original["gpt.mel_head.weight"])
    assert torch.equal(weights["hifigan_decoder.waveform_decoder.conv_pre.weight"],
                       original["hifigan_decoder.waveform_decoder.conv_pre.weight"])
    assert engine_for(model, target.store, settings).synthesize("Hello there.").size > 0


def test_fine_tuning_without_the_dvae_names_the_missing_files(voice_target, tiny_xtts_models, tmp_path):
    root = tmp_path / "inference-only"
    (root / "base" / "xtts_v2").mkdir(parents=True)
    for name in ("model.pth", "config.json", "vocab.json"):
        (root / "base" / "xtts_v2" / name).symlink_to(tiny_xtts_models / "base" / "xtts_v2" / name)
    settings, target = voice_target(models_root=root)
    with pytest.raises(MissingBaseModel) as raised:
        clone_speaker(references(), engine="xtts", target=target, settings=settings, fine_tune=True)
    assert raised.value.details["missing"] == ["dvae.pth", "mel_stats.pth"]
