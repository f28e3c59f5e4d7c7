"""The exported lip-sync generator at inference: ONNX Runtime (CUDA provider first) or TorchScript (CUDA in half
precision when there is a GPU); both take faces (B, 6, S, S) and audio (B, 1, T, D) float32 arrays and return
faces (B, 3, S, S) in 0..1."""

from pathlib import Path

import numpy as np

from livetalking.registry.exporters import onnx_session


class OnnxGenerator:
    """The exported generator in ONNX Runtime (CUDA provider first when the GPU build is installed)."""

    def __init__(self, path: Path, threads: int = 2):
        self.session = onnx_session(path, threads)

    def __call__(self, faces: np.ndarray, audio: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"faces": faces, "audio": audio})[0]


class TorchScriptGenerator:
    """The TorchScript export, on CUDA in half precision when there is a GPU."""

    def __init__(self, path: Path):
        import torch

        self.torch = torch
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = torch.jit.load(str(path), map_location=self.device).to(self.dtype).eval()

    def __call__(self, faces: np.ndarray, audio: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            out = self.model(self.torch.from_numpy(faces).to(self.device, self.dtype),
                             self.torch.from_numpy(audio).to(self.device, self.dtype))
        return out.float().cpu().numpy()
