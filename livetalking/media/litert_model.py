"""Run a .tflite model from models/base/ with LiteRT (the MediaPipe graphs' models, without the mediapipe package)."""

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from livetalking.errors import MissingBaseModel


class TFLiteModel:
    """One interpreter; call it with a float32 batch, get the output arrays in the model's order."""

    def __init__(self, path: Path, threads: int = 2):
        if not path.is_file():
            raise MissingBaseModel(f"{path.name} is missing from {path.parent}; `make bootstrap` installs it "
                                   "(scripts/fetch_base_models.py, from the mediapipe 0.10.14 wheel)",
                                   details={"folder": str(path.parent), "expected": [path.name]})
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = self.interpreter.get_output_details()

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the model takes."""
        _, height, width, _ = self.input["shape"]
        return int(height), int(width)

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        self.interpreter.set_tensor(self.input["index"], batch.astype(np.float32, copy=False))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(o["index"]) for o in self.outputs]


def base_model_path(models_root: Path, name: str) -> Path:
    """Where a MediaPipe model lives under models/base/."""
    return models_root / "base" / "mediapipe" / f"{name}.tflite"
