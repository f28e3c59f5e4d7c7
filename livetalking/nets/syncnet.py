"""A SyncNet expert: do five mouth frames and an audio window belong together? (cosine of two embeddings)

Trained per avatar from scratch (no pretrained SyncNet installs here): the positives are the take's
own frames with their audio, the negatives the same frames with audio from elsewhere in the take.
Used as a loss for the generator once it is good, and as the evaluation's sync confidence.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from livetalking.nets.lipsync import AUDIO_SHAPES, AudioEncoder, conv_bn

FRAMES = 5


@dataclass(frozen=True)
class SyncNetConfig:
    size: int = 96          # crops are resized to this side; the lower half is used
    embed: int = 256
    audio: str = "whisper_mel"

    def validate(self) -> "SyncNetConfig":
        if self.size % 16 or self.size < 48:
            raise ValueError("size must be a multiple of 16, at least 48")
        if self.audio not in AUDIO_SHAPES:
            raise ValueError(f"audio must be one of {sorted(AUDIO_SHAPES)}")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


class SyncNet(nn.Module):
    """(B, 15, size/2, size) five lower-half crops, (B, 1, T, D) audio -> ((B, E), (B, E)) unit embeddings."""

    def __init__(self, config: SyncNetConfig = SyncNetConfig()):
        super().__init__()
        self.config = config.validate()
        self.face = nn.Sequential(conv_bn(3 * FRAMES, 32), conv_bn(32, 64, 2), conv_bn(64, 64),
                                  conv_bn(64, 128, 2), conv_bn(128, 128), conv_bn(128, 256, 2), conv_bn(256, 256, 2),
                                  conv_bn(256, config.embed, 2), nn.AdaptiveAvgPool2d(1))
        self.audio = AudioEncoder(config.embed, AUDIO_SHAPES[config.audio][1])

    def forward(self, mouths: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        face = F.normalize(self.face(mouths).flatten(1), dim=1)   # (B, E)
        sound = F.normalize(self.audio(audio), dim=1)             # (B, E)
        return face, sound


def load_syncnet(state: dict, config: SyncNetConfig) -> SyncNet:
    """A SyncNet with stored weights, in eval mode."""
    net = SyncNet(config)
    net.load_state_dict(state)
    return net.eval()


def mouth_stack(crops: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 5, 3, S, S) consecutive crops in 0..1 -> (B, 15, size/2, size): their lower halves at `size`."""
    b, n, c, s, _ = crops.shape
    resized = F.interpolate(crops.reshape(b * n, c, s, s), size=(size, size), mode="bilinear", align_corners=False)
    return resized[:, :, size // 2:, :].reshape(b, n * c, size // 2, size)


def sync_probability(face: torch.Tensor, sound: torch.Tensor) -> torch.Tensor:
    """(B,) probability that each pair is in sync: the cosine of its embeddings, which lies in 0..1 as both end in a
    ReLU (Wav2Lip's expert does the same). Mapping the cosine's -1..1 instead left out-of-sync pairs at 0.5 at best."""
    return (face * sound).sum(1).clamp(0, 1)


def sync_loss(face: torch.Tensor, sound: torch.Tensor, in_sync: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of sync_probability against 1 (in sync) or 0 (offset)."""
    return F.binary_cross_entropy(sync_probability(face, sound).clamp(1e-6, 1 - 1e-6), in_sync)
