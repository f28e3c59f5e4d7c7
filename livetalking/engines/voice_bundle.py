"""A cloned offline voice on disk and in the store: weights (.pt), the ONNX mapper, the d-vector, the config.

Files of one version (under tenants/<tenant>/models/voices/<voice>/<version>/):
- model.pt: the mapper's state_dict (with its normalisation) and the config;
- model.onnx: the same mapper exported with a dynamic frame axis, checked against PyTorch before it is kept;
- speaker.npy: the speaker's d-vector (Resemblyzer, 256 floats);
- voice.json: engine, sample rate, WORLD frame period, pitch statistics, formant warp, network size.
Serving uses the ONNX file (onnxruntime; CUDA when available), so it needs no torch.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from livetalking.engines.converted_voice import ConvertedVoiceEngine, PitchStats
from livetalking.platform.store import ArtifactStore
from livetalking.registry import exporters

FILES = ("model.pt", "model.onnx", "speaker.npy", "voice.json")


def export_onnx(state: dict, config: dict, path: Path) -> float:
    """Export the mapper to ONNX (dynamic frame axis) and return the largest difference from PyTorch on a probe."""
    import torch

    from livetalking.nets.spectral_mapper import SpectralMapper

    model = SpectralMapper.from_state(state, config["dims"], config["hidden"])
    probe = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (1, 173, config["dims"])).astype(np.float32))
    probe = probe * model.in_std + model.in_mean
    return exporters.export_onnx(model, (probe,), path, ["coded_sp"], ["mapped_sp"],
                                 {"coded_sp": {1: "frames"}, "mapped_sp": {1: "frames"}},
                                 code="voice.onnx_mismatch").max_abs_diff


def write_files(folder: Path, state: dict, config: dict, speaker: np.ndarray) -> float:
    """Write the four files of a version into `folder`; returns the ONNX check's largest difference."""
    import torch

    torch.save({"state": state, "config": config}, folder / "model.pt")
    diff = export_onnx(state, config, folder / "model.onnx")
    np.save(folder / "speaker.npy", speaker.astype(np.float32))
    (folder / "voice.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    return diff


class OnnxMapper:
    """The exported mapper in onnxruntime (CUDA first when the GPU build is installed)."""

    def __init__(self, path: Path):
        self.session = exporters.onnx_session(path, threads=1)

    def __call__(self, coded_sp: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"coded_sp": coded_sp[None].astype(np.float32)})[0][0]


def engine_from_files(files: dict[str, dict], store: ArtifactStore) -> ConvertedVoiceEngine:
    """The serving engine of a stored version; `files` as registry.stored_files gives them (artifacts by format,
    the config's files by name), every one sha256-checked on read."""
    config = json.loads(store.get_bytes(files["voice.json"]["key"], sha256=files["voice.json"]["sha256"]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(store.get_bytes(files["onnx"]["key"], sha256=files["onnx"]["sha256"]))
        mapper = OnnxMapper(path)
    pitch = PitchStats(tuple(config["pitch"]["source"]), tuple(config["pitch"]["target"]))
    return ConvertedVoiceEngine(mapper, pitch, int(config["sample_rate"]), warp=float(config.get("warp", 1.0)))
