"""Cloning with XTTS-v2: zero-shot (conditioning latents from the takes) or with the GPT fine-tuned on the
takes' sentences first (Ray Train; needs dvae.pth and mel_stats.pth); evaluated, registered, gated.

The held-out take (the last one, when there are two or more) is not used for the latents. English
voices are evaluated on the English sentences against the bundled base voice; Mandarin on Mandarin
sentences; other XTTS languages on the held-out take's own transcript, which must then be given.
"""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from livetalking.engines.catalog import XTTS
from livetalking.engines.piper_engine import PiperEngine
from livetalking.engines.xtts_engine import (FINETUNE_FILES, INFERENCE_FILES, SAMPLE_RATE, XttsEngine, base_folder,
                                             conditioning, device_name, load_model, require_files)
from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import decode_audio, write_wav
from livetalking.media.transcribe import transcript
from livetalking.registry.publish import PublishedVersion, PublishTarget, next_version, register_version, upload_files
from livetalking.settings import Settings
from livetalking.train_jobs.speaker_profile import profile_of, take_embeddings
from livetalking.train_jobs.voice_eval import EVAL_SENTENCES, MANDARIN_SENTENCES, HeldOut, evaluate, voice_gate
from livetalking.train_jobs.voice_parallel import units_of_take
from livetalking.train_jobs.voice_reference import check_references
from livetalking.train_jobs.voice_takes import Progress, ReferenceTake, conversion_rate, split_held_out
from livetalking.train_jobs.xtts_finetune import finetune_job

DVAE_RATE = 22050
SENTENCES = {"en": EVAL_SENTENCES, "zh-cn": MANDARIN_SENTENCES}


def finetune_samples(takes: list[ReferenceTake], language: str, folder: Path) -> list[dict]:
    """The takes cut into sentences with their text, written as 22.05 kHz WAV files into `folder`."""
    samples = []
    for number, take in enumerate(takes):
        if take.text is None and language != "en":
            raise InvalidInput(f"fine-tuning a {language} voice needs the transcript of {take.path.name}",
                               code="voice.transcript_needed")
        for index, unit in enumerate(units_of_take(decode_audio(take.path, DVAE_RATE), DVAE_RATE, take.text)):
            path = write_wav(folder / f"{number}-{index}.wav", unit.audio, DVAE_RATE)
            samples.append({"audio_file": str(path), "text": unit.text, "language": language})
    if not samples:
        raise InvalidInput("no sentence of the takes could be used for fine-tuning", code="voice.no_sentences")
    return samples


def clone_xtts(takes: list[ReferenceTake], *, language: str, target: PublishTarget, settings: Settings,
               progress: Progress, fine_tune: bool = False) -> PublishedVersion:
    with tempfile.TemporaryDirectory() as tmp:
        return _clone(takes, language, target, settings, progress, fine_tune, Path(tmp))


def _clone(takes: list[ReferenceTake], language: str, target: PublishTarget, settings: Settings, progress: Progress,
           fine_tune: bool, scratch: Path) -> PublishedVersion:
    folder = require_files(base_folder(settings.models_root), INFERENCE_FILES + (FINETUNE_FILES if fine_tune else ()))
    progress(0.02, "checking the references")
    conversion_rate([t.path for t in takes])
    check_references([t.path for t in takes], settings.voice_min_speech_s)
    training, evaluation, held_out = split_held_out(takes)
    embedded = take_embeddings([t.path for t in takes])
    english = language == "en"
    audio = decode_audio(evaluation.path, RATE)
    text = evaluation.text or (transcript(audio) if english else None)
    sentences = SENTENCES.get(language) or ((text,) if text else None)
    if sentences is None:
        raise InvalidInput(f"evaluating a {language} voice needs the transcript of the held-out take "
                           f"({evaluation.path.name})", code="voice.transcript_needed")
    checkpoint, tuned = None, {}
    if fine_tune:
        progress(0.1, "fine-tuning the GPT of XTTS-v2")
        samples = finetune_samples(training, language, scratch)
        tuned = finetune_job(folder, samples, settings.voice_xtts_finetune_steps, settings.voice_xtts_finetune_lr,
                             scratch / "tuned", settings.voice_use_gpu)
        checkpoint = scratch / "tuned" / "model.pth"
    progress(0.2, "loading XTTS-v2")
    model = load_model(folder, device_name(), checkpoint)
    progress(0.3, "computing the conditioning latents")
    latents = conditioning(model, [t.path for t in training])
    engine = XttsEngine(model, latents, language)
    progress(0.5, "evaluating")
    metrics = evaluate(engine, PiperEngine() if english else None,
                       HeldOut(audio, RATE, text, profile_of([embedded[evaluation.path]])), sentences, english)
    metrics.update(held_out=float(held_out), reference_takes=float(len(takes)),
                   **{f"finetune_{k}": v for k, v in tuned.items()})
    config = {"engine": XTTS, "language": language, "sample_rate": SAMPLE_RATE, "fine_tuned": fine_tune,
              "base_model": "models/base/xtts_v2"}
    name = target.model_name
    version = next_version(target)
    progress(0.9, "registering")
    out = scratch / "version"
    out.mkdir()
    torch.save(latents, out / "model.pt")
    np.save(out / "speaker.npy", profile_of([embedded[t.path] for t in takes]))
    (out / "voice.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    extra = ("speaker.npy", "voice.json") + (("model.pth",) if fine_tune else ())
    if fine_tune:
        shutil.move(checkpoint, out / "model.pth")
    files = upload_files(target, out, version, ("model.pt",) + extra)
    card = dict(name=name, version=version, backbone=XTTS, sample_rate=SAMPLE_RATE, input_shape=[1, -1])
    return register_version(target, card, config, metrics, files, {"pt": "model.pt"}, extra,
                            voice_gate(metrics, settings))
