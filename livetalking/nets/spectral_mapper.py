"""The spectral mapper: base-voice coded spectral envelopes in, the target speaker's out, frame for frame.

A small 1-D convolutional network over time (each output frame sees +-`RECEPTIVE` frames) that
learns a correction on top of a fixed residual path: the source envelope shifted from the base
voice's mean to the person's. With its last layer zero-initialised, an untrained mapper is exactly
that mean shift, which on its own already moves the voice most of the way (measured in
docs/voice.md); training adds what the parallel sentences can teach without hurting intelligibility.
Input and output normalisation are buffers inside the module: the exported ONNX graph takes and
returns raw WORLD coefficients.
"""

import torch
from torch import nn

KERNEL = 5
LAYERS = 3
RECEPTIVE = LAYERS * (KERNEL // 2)


class SpectralMapper(nn.Module):
    def __init__(self, dims: int = 40, hidden: int = 256):
        super().__init__()
        self.dims, self.hidden = dims, hidden
        self.register_buffer("in_mean", torch.zeros(dims))
        self.register_buffer("in_std", torch.ones(dims))
        self.register_buffer("out_mean", torch.zeros(dims))
        self.register_buffer("out_std", torch.ones(dims))
        self.body = nn.Sequential(
            nn.Conv1d(dims, hidden, KERNEL, padding=KERNEL // 2), nn.GELU(),
            nn.Conv1d(hidden, hidden, KERNEL, padding=KERNEL // 2), nn.GELU(),
            nn.Conv1d(hidden, dims, KERNEL, padding=KERNEL // 2),
        )
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    @classmethod
    def from_state(cls, state: dict, dims: int, hidden: int) -> "SpectralMapper":
        """A trained mapper in eval mode."""
        model = cls(dims, hidden)
        model.load_state_dict(state)
        return model.eval()

    def set_normalisation(self, in_mean, in_std, out_mean, out_std) -> None:
        for name, value in (("in_mean", in_mean), ("in_std", in_std), ("out_mean", out_mean), ("out_std", out_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def normalised(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, frames, dims) normalised source -> normalised target (used by the training loss)."""
        return x * (self.in_std / self.out_std) + self.body(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, coded_sp: torch.Tensor) -> torch.Tensor:
        """(batch, frames, dims) raw source coefficients -> raw target coefficients."""
        x = (coded_sp - self.in_mean) / self.in_std
        return self.normalised(x) * self.out_std + self.out_mean
