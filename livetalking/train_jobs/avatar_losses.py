"""Losses of the lip-sync generator, as pure functions on (B, C, H, W) tensors in 0..1.

No pretrained perceptual network installs here (torchvision's VGG and LPIPS download their
weights), so the picture losses are L1 and SSIM: L1 over the lower face with the mouth weighted
up (where the model must really draw), and 1 - SSIM there, which keeps the local contrast of
lips and teeth that L1 alone lets blur; optionally an adversarial loss from a small patch
discriminator trained beside the generator (Adversary).
"""

import torch
from torch.nn import functional as F


def _gaussian(window: int, sigma: float, device, dtype) -> torch.Tensor:
    x = torch.arange(window, device=device, dtype=dtype) - (window - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return (g / g.sum())[:, None] @ (g / g.sum())[None, :]


def ssim_map(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """(B, C, H, W) structural similarity of two images in 0..1 (Wang et al. 2004, Gaussian window)."""
    channels = a.shape[1]
    kernel = _gaussian(window, sigma, a.device, a.dtype).expand(channels, 1, window, window)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, kernel, padding=window // 2, groups=channels)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))


def lower_face_weights(mouth: torch.Tensor, mask_top: float, mouth_weight: float,
                       swapped: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 1, S, S) per-pixel weights: 1 on the masked lower face, 1 + mouth_weight on the (soft) mouth mask,
    0.1 above the mask line (the generator only has to copy it), 0 there for samples whose upper face came
    from another frame (`swapped`, (B,) bool)."""
    weights = torch.full_like(mouth, 0.1)
    if swapped is not None:
        weights[swapped] = 0.0
    weights[:, :, int(round(mask_top * mouth.shape[2])):, :] = 1.0
    return weights + mouth_weight * mouth


def reconstruction_loss(predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor,
                        ssim_weight: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted L1 plus ssim_weight x (1 - SSIM) under the same weights; returns (loss, its parts)."""
    norm = weights.sum() * predicted.shape[1]
    l1 = ((predicted - target).abs() * weights).sum() / norm
    structural = ((1 - ssim_map(predicted, target)) * weights).sum() / norm
    return l1 + ssim_weight * structural, {"l1": float(l1.detach()), "ssim_loss": float(structural.detach())}


class Adversary:
    """The patch discriminator beside the generator (TrainConfig.adv_weight): it sees the lower face (from
    mask_top down), real or generated; `generator_loss` asks the generator to pass as real, `step` trains the
    discriminator on the same batch (Adam, betas 0.5 / 0.999, as pix2pix). `wrap` is DDP's prepare_model."""

    def __init__(self, mask_top: float, lr: float, device: torch.device, wrap=lambda m: m):
        from livetalking.nets.discriminator import PatchDiscriminator

        self.mask_top = mask_top
        self.net = wrap(PatchDiscriminator().to(device))
        self.optimiser = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.999))

    def _lower(self, images: torch.Tensor) -> torch.Tensor:
        return images[:, :, int(round(self.mask_top * images.shape[2])):, :]

    def generator_loss(self, predicted: torch.Tensor) -> torch.Tensor:
        logits = self.net(self._lower(predicted))
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def step(self, predicted: torch.Tensor, target: torch.Tensor) -> float:
        """One discriminator step on real targets against the (detached) generated faces; its loss. Both go through
        one forward pass (DDP allows one per backward)."""
        real, fake = self.net(torch.cat([self._lower(target), self._lower(predicted.detach())])).chunk(2)
        loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        return float(loss.detach())

    def state(self) -> dict:
        return {"net": {k: v.detach().cpu().clone() for k, v in getattr(self.net, "module", self.net).state_dict()
                        .items()}, "optimiser": self.optimiser.state_dict()}

    def load(self, state: dict) -> None:
        getattr(self.net, "module", self.net).load_state_dict(state["net"])
        self.optimiser.load_state_dict(state["optimiser"])
