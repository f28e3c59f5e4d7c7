"""The xtts engine: coqui-tts XTTS-v2 from models/base/xtts_v2/ (never downloaded), zero-shot or fine-tuned.

A voice is XTTS's conditioning latents (GPT conditioning latent + speaker embedding) computed once
from the reference takes and stored with the version, so speaking never re-reads the takes. A
fine-tuned version also carries its own model.pth. Streaming uses XTTS's inference_stream (chunks of
GPT tokens decoded by HiFi-GAN as they come), cut into 20 ms chunks at 24 kHz. On the CPU it is
slow (about 15x slower than real time for the real model); it is the GPU engine.
"""

import shutil
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from livetalking.engines.base import AudioChunk, rechunk
from livetalking.errors import InvalidInput, MissingBaseModel
from livetalking.platform.store import ArtifactStore

NAME = "xtts"
SAMPLE_RATE = 24000
INFERENCE_FILES = ("model.pth", "config.json", "vocab.json")
FINETUNE_FILES = ("dvae.pth", "mel_stats.pth")


def base_folder(models_root: Path) -> Path:
    return models_root / "base" / "xtts_v2"


def require_files(folder: Path, names=INFERENCE_FILES) -> Path:
    """The folder, or MissingBaseModel naming it and every file expected there."""
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise MissingBaseModel(f"XTTS-v2 weights are missing: {folder} must hold {', '.join(names)} "
                               f"(missing: {', '.join(missing)}); copy them there, nothing is downloaded",
                               details={"folder": str(folder), "expected": list(names), "missing": missing})
    return folder


def device_name(use_gpu: bool = True) -> str:
    import torch

    return "cuda" if use_gpu and torch.cuda.is_available() else "cpu"


@lru_cache(maxsize=2)
def load_model(folder: Path, device: str = "cpu", checkpoint: Path | None = None):
    """XTTS-v2 from `folder` (config.json, vocab.json, and model.pth or `checkpoint`), in eval mode on `device`."""
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts

    require_files(folder, ("config.json", "vocab.json") + (() if checkpoint else ("model.pth",)))
    config = XttsConfig()
    config.load_json(str(folder / "config.json"))
    model = Xtts(config)
    model.load_checkpoint(config, checkpoint_dir=str(folder), checkpoint_path=str(checkpoint) if checkpoint else None,
                          vocab_path=str(folder / "vocab.json"), eval=True)
    return model.to(device)


def conditioning(model, paths: list[Path]) -> dict:
    """The voice's conditioning latents from its reference takes (computed once, stored with the version)."""
    import torch

    with torch.inference_mode():
        latent, speaker = model.get_conditioning_latents(audio_path=[str(p) for p in paths])
    return {"gpt_cond_latent": latent.cpu(), "speaker_embedding": speaker.cpu()}


class XttsEngine:
    """synthesize(text) / stream(text) at 24 kHz in one language, from stored conditioning latents."""

    sample_rate = SAMPLE_RATE

    def __init__(self, model, latents: dict, language: str):
        self.model, self.language = model, language
        device = next(model.parameters()).device
        self.latent = latents["gpt_cond_latent"].to(device)
        self.speaker = latents["speaker_embedding"].to(device)
        self.lock = threading.Lock()

    def _text(self, text: str) -> str:
        if not text.strip():
            raise InvalidInput("there is no text to speak", code="tts.empty_text")
        return text

    def synthesize(self, text: str) -> np.ndarray:
        import torch

        text = self._text(text)
        with self.lock, torch.inference_mode():
            out = self.model.inference(text, self.language, self.latent, self.speaker, enable_text_splitting=True)
        return np.asarray(out["wav"], np.float32)

    def _pieces(self, text: str) -> Iterator[np.ndarray]:
        import torch

        with self.lock, torch.inference_mode():
            for piece in self.model.inference_stream(text, self.language, self.latent, self.speaker,
                                                     enable_text_splitting=True):
                yield piece.float().cpu().numpy()

    def stream(self, text: str) -> Iterator[AudioChunk]:
        return rechunk(self._pieces(self._text(text)), self.sample_rate)


def engine_from_files(files: dict[str, dict], store: ArtifactStore, config: dict, models_root: Path,
                      cache: Path) -> XttsEngine:
    """The serving engine of a stored xtts version: base weights (or its fine-tuned model.pth, copied once into
    `cache` under its sha256) + its latents."""
    import torch

    folder = require_files(base_folder(models_root), ("config.json", "vocab.json"))
    checkpoint = None
    if "model.pth" in files:
        checkpoint = cache / f"xtts-{files['model.pth']['sha256']}.pth"
        if not checkpoint.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            with store.open_local(files["model.pth"]["key"], sha256=files["model.pth"]["sha256"]) as local:
                partial = checkpoint.with_suffix(".part")
                shutil.copyfile(local, partial)
                partial.replace(checkpoint)
    model = load_model(folder, device_name(), checkpoint)
    with store.open_local(files["pt"]["key"], sha256=files["pt"]["sha256"]) as local:
        latents = torch.load(local, weights_only=True)
    return XttsEngine(model, latents, config["language"])
