"""A small patch discriminator (PatchGAN, as in pix2pix): is each patch of a lower face real or generated?

No pretrained perceptual network installs here; an adversarial loss is the other way to push the
generator from the blur that L1 settles on towards sharp lips and teeth. Instance normalisation
rather than batch normalisation: real and generated batches are scored separately.
"""

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """(B, 3, H, W) image in 0..1 -> (B, 1, H/8, W/8) logits, one per overlapping patch (about 30 px across)."""

    def __init__(self, width: int = 32):
        super().__init__()

        def down(inp: int, out: int, norm: bool = True) -> list[nn.Module]:
            return [nn.Conv2d(inp, out, 4, 2, 1), *([nn.InstanceNorm2d(out, affine=True)] if norm else []),
                    nn.LeakyReLU(0.2, inplace=True)]

        self.net = nn.Sequential(*down(3, width, norm=False), *down(width, 2 * width), *down(2 * width, 4 * width),
                                 nn.Conv2d(4 * width, 1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images * 2 - 1)
