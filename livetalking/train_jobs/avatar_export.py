"""The files of one avatar model version: .pt with its config, TorchScript, ONNX (dynamic batch), a Triton repository.

- model.pt: {"state", "config" (LipSyncConfig), "train" (TrainConfig), "syncnet" ({"state", "config"} of the
  avatar's SyncNet expert, which the evaluation judges with; absent in versions made before it)}: the model
  describes itself;
- model.torchscript.pt and model.onnx: the generator's forward (faces (B, 6, S, S), audio (B, 1, T, D))
  -> (B, 3, S, S), each checked against PyTorch on a probe batch of 2 before it is kept (and the time of
  that run recorded: `*_probe_seconds`);
- triton/config.pbtxt + triton/1/model.onnx: a Triton model repository entry (ONNX Runtime backend,
  dynamic batching up to 32);
- avatar.json: the configs and the export checks.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from livetalking.nets.lipsync import LipSyncConfig, LipSyncGenerator
from livetalking.nets.syncnet import SyncNet, SyncNetConfig, load_syncnet
from livetalking.registry.exporters import TensorSpec, export_onnx, export_torchscript, write_triton_repository

FILES = ("model.pt", "model.torchscript.pt", "model.onnx", "avatar.json")
TRITON_FILES = ("triton/config.pbtxt", "triton/1/model.onnx")
TRITON_MAX_BATCH = 32
CODE = "avatar.export_mismatch"


def probe_inputs(config: LipSyncConfig, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    faces = torch.from_numpy(rng.random((batch, 6, config.size, config.size), dtype=np.float32))
    audio = torch.from_numpy(rng.normal(-2, 1, (batch, 1, *config.audio_shape)).astype(np.float32))
    return faces, audio


def load_generator(state: dict, config: LipSyncConfig) -> LipSyncGenerator:
    model = LipSyncGenerator(config)
    model.load_state_dict(state)
    return model.eval()


def write_files(folder: Path, state: dict, config: LipSyncConfig, train: dict, extra: dict,
                syncnet: SyncNet | None = None) -> dict[str, float]:
    """Write every file of a version into `folder`; returns the export checks as metrics."""
    model = load_generator(state, config)
    saved = {"state": state, "config": config.as_dict(), "train": train}
    if syncnet is not None:
        saved["syncnet"] = {"state": syncnet.state_dict(), "config": syncnet.config.as_dict()}
    torch.save(saved, folder / "model.pt")
    inputs = probe_inputs(config)
    script = export_torchscript(model, inputs, folder / "model.torchscript.pt", CODE)
    onnx = export_onnx(model, inputs, folder / "model.onnx", ["faces", "audio"], ["face"],
                       {"faces": {0: "batch"}, "audio": {0: "batch"}, "face": {0: "batch"}}, CODE)
    write_triton_repository(folder, "triton", folder / "model.onnx",
                            [TensorSpec("faces", np.float32, (6, config.size, config.size)),
                             TensorSpec("audio", np.float32, (1, *config.audio_shape))],
                            [TensorSpec("face", np.float32, (3, config.size, config.size))], TRITON_MAX_BATCH)
    checks = {"torchscript_max_abs_diff": script.max_abs_diff, "onnx_max_abs_diff": onnx.max_abs_diff,
              "torchscript_probe_seconds": script.seconds, "onnx_probe_seconds": onnx.seconds}
    (folder / "avatar.json").write_text(json.dumps({"model": config.as_dict(), "train": train, "exports": checks,
                                                    **extra}, indent=2, sort_keys=True))
    return checks


@dataclass(frozen=True)
class StoredModel:
    """A version's model.pt: the generator's weights and config, and its SyncNet expert when it has one."""

    state: dict
    config: LipSyncConfig
    syncnet: SyncNet | None


def read_model_file(path: Path) -> StoredModel:
    saved = torch.load(path, weights_only=True, map_location="cpu")
    expert = saved.get("syncnet")
    syncnet = load_syncnet(expert["state"], SyncNetConfig(**expert["config"])) if expert else None
    return StoredModel(saved["state"], LipSyncConfig.from_dict(saved["config"]), syncnet)
