"""Zero-shot cloning with XTTS-v2: conditioning latents from the takes, evaluated, registered, gated.

The held-out take (the last one, when there are two or more) is not used for the latents. English
voices are evaluated on the English sentences against the bundled base voice; Mandarin on Mandarin
sentences; other XTTS languages on the held-out take's own transcript, which must then be given.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from livetalking.engines.catalog import XTTS
from livetalking.engines.piper_engine import PiperEngine
from livetalking.engines.xtts_engine import (SAMPLE_RATE, XttsEngine, base_folder, conditioning, device_name,
                                             load_model, require_files)
from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE
from livetalking.media.audio_io import decode_audio
from livetalking.media.transcribe import transcript
from livetalking.settings import Settings
from livetalking.train_jobs.speaker_profile import speaker_profile
from livetalking.train_jobs.voice_clone import (Progress, ReferenceTake, VoiceTarget, VoiceVersion, conversion_rate,
                                                next_version, register_version, split_held_out, upload_files)
from livetalking.train_jobs.voice_eval import EVAL_SENTENCES, MANDARIN_SENTENCES, HeldOut, evaluate
from livetalking.train_jobs.voice_reference import check_references

FILES = ("model.pt", "speaker.npy", "voice.json")
SENTENCES = {"en": EVAL_SENTENCES, "zh-cn": MANDARIN_SENTENCES}


def clone_xtts(takes: list[ReferenceTake], *, language: str, target: VoiceTarget, settings: Settings,
               progress: Progress) -> VoiceVersion:
    folder = require_files(base_folder(settings.models_root))
    progress(0.02, "checking the references")
    conversion_rate([t.path for t in takes])
    check_references([t.path for t in takes], settings.voice_min_speech_s)
    training, evaluation, held_out = split_held_out(takes)
    english = language == "en"
    audio = decode_audio(evaluation.path, RATE)
    text = evaluation.text or (transcript(audio) if english else None)
    sentences = SENTENCES.get(language) or ((text,) if text else None)
    if sentences is None:
        raise InvalidInput(f"evaluating a {language} voice needs the transcript of the held-out take "
                           f"({evaluation.path.name})", code="voice.transcript_needed")
    progress(0.1, "loading XTTS-v2")
    model = load_model(folder, device_name())
    progress(0.3, "computing the conditioning latents")
    latents = conditioning(model, [t.path for t in training])
    engine = XttsEngine(model, latents, language)
    progress(0.5, "evaluating")
    metrics = evaluate(engine, PiperEngine() if english else None,
                       HeldOut(audio, RATE, text, speaker_profile([evaluation.path])), sentences, english)
    metrics.update(held_out=float(held_out), reference_takes=float(len(takes)))
    config = {"engine": XTTS, "language": language, "sample_rate": SAMPLE_RATE, "fine_tuned": False,
              "base_model": "models/base/xtts_v2"}
    name = f"voice-{target.voice_id}"
    version = next_version(target, name)
    progress(0.9, "registering")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        torch.save(latents, out / "model.pt")
        np.save(out / "speaker.npy", speaker_profile([t.path for t in takes]))
        (out / "voice.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        files = upload_files(target, out, version, FILES)
    card = dict(name=name, version=version, backbone=XTTS, sample_rate=SAMPLE_RATE, input_shape=[1, -1])
    return register_version(target, card, config, metrics, files, {"pt": "model.pt"}, ("speaker.npy", "voice.json"),
                            settings)
