"""The person-specific lip-sync generator: a U-Net that redraws the lower face of a face crop from audio.

Input: the target crop with its lower face masked out, beside a reference crop of the same person
(6 channels), and the audio window of the frame. The audio is encoded to one vector and fused at
the bottleneck; the decoder redraws the whole crop, of which the mouth region is pasted back.

The encoder starts at half resolution (a stride-2 stem) and a last full-resolution layer sees the
input again, as Ultralight's does. Blocks are residual 3x3 convolutions by default: measured on 2
CPU cores (PyTorch 2.11, batch 16 at 160 px), MobileNetV2 inverted-residual blocks of the same
widths trained 8x slower (depthwise convolutions are slow to back-propagate on the CPU); they stay
available as `block="inverted"` for GPU training and ONNX inference.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

# Each audio feature's window per video frame (time steps, features): the log-mel of media/audio_features, the
# whisper tiny.en encoder states of media/speech_states, and both side by side (see media/lip_audio).
AUDIO_SHAPES = {"mel": (16, 80), "whisper": (10, 384), "whisper_mel": (10, 464)}
LIP_POINTS = 40          # MediaPipe's outer (20) then inner (20) lip contour
LIP_ORIGIN = (0.5, 0.72)  # lip landmarks are offsets from here (the template mouth), in crop sides ...
LIP_SCALE = 10.0         # ... times 10


@dataclass(frozen=True)
class LipSyncConfig:
    """Everything that defines the generator's shape; stored in every checkpoint and export."""

    size: int = 160
    widths: tuple[int, ...] = (16, 32, 64, 128, 256)
    block: str = "residual"
    audio: str = "whisper_mel"
    audio_dim: int = 256
    mask_top: float = 0.56

    def validate(self) -> "LipSyncConfig":
        halvings = len(self.widths)
        if self.size % (2 ** halvings):
            raise ValueError(f"size {self.size} must be divisible by 2**{halvings} (one halving per width)")
        if self.audio not in AUDIO_SHAPES:
            raise ValueError(f"audio must be one of {sorted(AUDIO_SHAPES)}, not {self.audio!r}")
        if self.block not in BLOCKS:
            raise ValueError(f"block must be one of {sorted(BLOCKS)}, not {self.block!r}")
        if not 0.3 <= self.mask_top <= 0.8:
            raise ValueError("mask_top must lie in 0.3..0.8 of the crop height")
        if len(self.widths) < 2 or min(self.widths) < 4 or self.audio_dim < 8:
            raise ValueError("widths (at least two) and audio_dim are too small")
        return self

    @property
    def audio_shape(self) -> tuple[int, int]:
        return AUDIO_SHAPES[self.audio]

    def as_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}

    @classmethod
    def from_dict(cls, values: dict) -> "LipSyncConfig":
        return cls(**{**values, "widths": tuple(values["widths"])}).validate()


def conv_bn(inp: int, out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))


class Residual(nn.Module):
    """Two 3x3 convolutions with an identity shortcut."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(channels, channels), nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 project, identity shortcut."""

    def __init__(self, channels: int, expand: int = 2):
        super().__init__()
        hidden = channels * expand
        self.body = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True), nn.Conv2d(hidden, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


BLOCKS = {"residual": Residual, "inverted": InvertedResidual}
PREVIEW_160 = LipSyncConfig()
PREVIEW_96 = LipSyncConfig(size=96, widths=(16, 32, 64, 128, 256))
QUALITY_256 = LipSyncConfig(size=256, widths=(32, 64, 128, 256, 384, 512), audio_dim=384)


class AudioEncoder(nn.Module):
    """(B, 1, T, D) feature window -> (B, audio_dim): 1-D convolutions over time with the D features as channels,
    heavily dropped out. A person's take is a few hundred windows: a 2-D convolution stack over the window as
    an image (Wav2Lip's) memorised them (lip-shape correlation 0.92 on the training frames, -0.08 held out)."""

    def __init__(self, audio_dim: int, features: int = 80, hidden: int = 128, dropout: float = 0.5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(0.1), nn.Conv1d(features, hidden, 3, 1, 1), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Conv1d(hidden, hidden, 3, 2, 1), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Conv1d(hidden, audio_dim, 3, 2, 1), nn.BatchNorm1d(audio_dim),
            nn.ReLU(inplace=True))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.net(audio[:, 0].transpose(1, 2)).mean(2)   # (B, D, T) -> (B, audio_dim, T / 4) -> (B, audio_dim)


class LinearLipHead(nn.Module):
    """(B, 1, T, D) audio window -> (B, 40, 2) lip landmarks: a standardised linear map, fitted in closed form
    (ridge regression, see train_jobs/lip_model) rather than trained, and stored as buffers."""

    def __init__(self, window: tuple[int, int]):
        super().__init__()
        inputs = window[0] * window[1]
        self.register_buffer("mean", torch.zeros(inputs))
        self.register_buffer("std", torch.ones(inputs))
        self.register_buffer("weight", torch.zeros(inputs, 2 * LIP_POINTS))
        self.register_buffer("bias", torch.zeros(2 * LIP_POINTS))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = (audio.flatten(1) - self.mean) / self.std                  # (B, T * D)
        return (x @ self.weight + self.bias).reshape(-1, LIP_POINTS, 2)


def lip_heatmap(lips: torch.Tensor, pixels: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
    """(B, 40, 2) lip landmarks (LIP_ORIGIN / LIP_SCALE units) -> (B, 2, S, S) soft maps of the outer and the
    inner lip contour: at each pixel the largest Gaussian (sigma = S / 64) of the contour's points. `pixels` (S,)
    are the pixel centres and `origin` (2,) is LIP_ORIGIN, passed in as tensors (the generator's buffers) so a
    traced export follows the module to its device instead of keeping the tracing device as a constant."""
    size = pixels.shape[0]
    xy = (lips / LIP_SCALE + origin) * size                                                      # (B, 40, 2)
    sigma = size / 64.0
    gx = torch.exp(-((pixels[None, None, :] - xy[:, :, 0:1]) ** 2) / (2 * sigma ** 2))        # (B, 40, S)
    gy = torch.exp(-((pixels[None, None, :] - xy[:, :, 1:2]) ** 2) / (2 * sigma ** 2))        # (B, 40, S)
    maps = gy[:, :, :, None] * gx[:, :, None, :]                                              # (B, 40, S, S)
    half = LIP_POINTS // 2
    return torch.stack([maps[:, :half].amax(1), maps[:, half:].amax(1)], 1)                   # (B, 2, S, S)


class LipSyncGenerator(nn.Module):
    """(B, 6, S, S) masked target + reference in 0..1, (B, 1, T, D) audio -> (B, 3, S, S) face in 0..1.

    Two stages in one module: a linear lip head reads the mouth's shape (40 lip landmarks) from the
    audio window, and the U-Net draws the lower face given that shape as two heat maps beside the
    crops, with a learned audio code at its bottleneck for what the shape does not say (teeth,
    tongue). A ridge regression generalises from a few hundred frames; a U-Net driven by the audio
    alone learned the mouth from it slowly (mouth-opening correlation 0.03 on held-out frames after
    1600 steps when it could not see the upper face), while drawn to the real lip landmarks it
    reached 0.85 in the same steps.
    """

    def __init__(self, config: LipSyncConfig = PREVIEW_160):
        super().__init__()
        self.config = config.validate()
        w, block = config.widths, BLOCKS[config.block]
        self.stem = conv_bn(6 + 2, w[0], 2)
        self.down = nn.ModuleList(nn.Sequential(conv_bn(w[i], w[i + 1], 2), block(w[i + 1]))
                                  for i in range(len(w) - 1))
        self.audio = AudioEncoder(config.audio_dim, config.audio_shape[1])
        self.fuse = nn.Sequential(conv_bn(w[-1] + config.audio_dim, w[-1]), block(w[-1]))
        self.up = nn.ModuleList(nn.Sequential(conv_bn(w[i + 1] + w[i], w[i]), block(w[i]))
                                for i in reversed(range(len(w) - 1)))
        self.full = nn.Sequential(conv_bn(w[0] + 6 + 2, 8), nn.Conv2d(8, 3, 3, 1, 1))
        self.lips = LinearLipHead(config.audio_shape)
        self.register_buffer("pixels", torch.arange(config.size, dtype=torch.float32) + 0.5, persistent=False)
        self.register_buffer("lip_origin", torch.tensor(LIP_ORIGIN, dtype=torch.float32), persistent=False)

    def forward(self, faces: torch.Tensor, audio: torch.Tensor, lips: torch.Tensor | None = None,
                with_lips: bool = False):
        """The face, its mouth drawn to `lips` (B, 40, 2) when given (training: the real landmarks), else to the
        lip head's reading of the audio; with `with_lips` also the lip head's (B, 40, 2)."""
        code = self.audio(audio)                               # (B, audio_dim)
        predicted = self.lips(audio)                           # (B, 40, 2)
        shape = lip_heatmap(predicted if lips is None else lips, self.pixels, self.lip_origin)  # (B, 2, S, S)
        faces = torch.cat([faces, shape], 1)                   # (B, 8, S, S)
        x = self.stem(faces)                                   # (B, w0, S/2, S/2)
        skips = [x]
        for level in self.down:
            x = level(x)                                       # (B, w[i+1], S / 2^(i+2), S / 2^(i+2))
            skips.append(x)
        a = code[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = self.fuse(torch.cat([x, a], 1))                    # (B, w[-1], S / 2^L, S / 2^L)
        for level, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = level(torch.cat([x, skip], 1))                 # (B, w[i], ...)
        x = F.interpolate(x, size=faces.shape[2:], mode="bilinear", align_corners=False)  # (B, w0, S, S)
        image = torch.sigmoid(self.full(torch.cat([x, faces], 1)))                        # (B, 3, S, S)
        if with_lips:
            return image, predicted
        return image


def mask_lower_face(crops: torch.Tensor, mask_top: float) -> torch.Tensor:
    """(B, 3, S, S) -> the same crops with every row from mask_top of the height down set to 0."""
    masked = crops.clone()
    masked[:, :, int(round(mask_top * crops.shape[2])):, :] = 0
    return masked


def generator_inputs(targets: torch.Tensor, references: torch.Tensor, mask_top: float) -> torch.Tensor:
    """(B, 3, S, S) target and reference crops -> (B, 6, S, S) generator input."""
    return torch.cat([mask_lower_face(targets, mask_top), references], 1)
