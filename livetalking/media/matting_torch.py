"""The matting chain in torch, batched, for CUDA (and CPU): the same steps and parameters as the OpenCV path.

Frames go in as (B, H, W, 3) uint8 tensors on the device; alpha (B, H, W) float32 and the despilled
foreground (B, H, W, 3) uint8 come out. The hole/speck repair finds connected components, which
torch has no kernel for: it runs OpenCV on the coarse (<= 360 px) binary grid on the host, a few
kilobytes a frame, and applies the result on the device.
"""

import numpy as np
import torch
import torch.nn.functional as F

from livetalking.media.chroma_key import LOW, PLATE_SCALE, PLATE_SIGMA, KeyModel
from livetalking.media.matte_refine import GUIDED_EPS, coarse_repairs, repair_step

EPS = 1e-4


def pick_device(preferred: str | None = None) -> torch.device:
    """CUDA when present (or the device asked for), else CPU."""
    if preferred:
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _gaussian_kernel(sigma: float, device: torch.device) -> torch.Tensor:
    size = int(round(sigma * 4 * 2 + 1)) | 1  # OpenCV's size for float images
    x = torch.arange(size, device=device, dtype=torch.float32) - size // 2
    kernel = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return kernel / kernel.sum()


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, 1, H, W) separable Gaussian, reflect-101 borders (OpenCV's default)."""
    kernel = _gaussian_kernel(sigma, image.device)
    pad = kernel.numel() // 2
    out = F.conv2d(F.pad(image, (pad, pad, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(out, (0, 0, pad, pad), mode="reflect"), kernel.view(1, 1, -1, 1))


def box(image: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, 1, H, W) normalised box filter of side 2r + 1, reflect-101 borders."""
    padded = F.pad(image, (radius, radius, radius, radius), mode="reflect")
    return F.avg_pool2d(padded, 2 * radius + 1, stride=1)


def _area_down(image: torch.Tensor, factor: int) -> torch.Tensor:
    return F.avg_pool2d(image, factor) if factor > 1 else image


def _bilinear(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False)


def pull_alpha(frames: torch.Tensor, model: KeyModel) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 1, H, W) alpha."""
    rgb = frames.permute(0, 3, 1, 2).float()
    excess = (rgb[:, 1:2] - torch.maximum(rgb[:, 0:1], rgb[:, 2:3])).clamp(min=0) / 255.0
    batch, _, height, width = excess.shape
    small = _bilinear_area(excess, height // PLATE_SCALE, width // PLATE_SCALE)
    confident = (small > 0.6 * model.key_excess).float()
    weight = gaussian_blur(confident, PLATE_SIGMA)
    value = gaussian_blur(small * confident, PLATE_SIGMA)
    plate = torch.where(weight > 0.02, value / weight.clamp(min=EPS), torch.full_like(value, model.key_excess))
    plate = _bilinear(plate.clamp(min=0.5 * model.key_excess), height, width)
    alpha = ((model.high - excess / plate) / (model.high - LOW)).clamp(0.0, 1.0)
    return alpha * _inside(model, height, width, frames.device)


def _bilinear_area(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """OpenCV INTER_AREA: exact block means when the size divides, else adaptive pooling."""
    if image.shape[-2] % height == 0 and image.shape[-1] % width == 0:
        return F.avg_pool2d(image, (image.shape[-2] // height, image.shape[-1] // width))
    return F.adaptive_avg_pool2d(image, (height, width))


def _inside(model: KeyModel, height: int, width: int, device: torch.device) -> torch.Tensor:
    inside = torch.zeros((1, 1, height, width), device=device)
    inside[..., model.area.top:model.area.bottom, model.area.left:model.area.right] = 1.0
    return inside


def repair_alpha(alpha: torch.Tensor, model: KeyModel) -> torch.Tensor:
    """Holes and specks as in matte_refine.repair_alpha: components on the coarse grid (host), applied here."""
    batch, _, height, width = alpha.shape
    step = repair_step(height, width)
    coarse = alpha[:, 0, ::step, ::step].detach().cpu().numpy()
    inside = _inside(model, height, width, alpha.device)[0, 0, ::step, ::step].cpu().numpy() > 0
    fills, drops = zip(*(coarse_repairs(frame_alpha, inside) for frame_alpha in coarse), strict=True)
    holes = _upsample(np.stack(fills), step, height, width, alpha.device)
    specks = _upsample(np.stack(drops), step, height, width, alpha.device)
    repaired = torch.where(holes & (alpha < 0.5) & (_inside(model, height, width, alpha.device) > 0),
                           torch.ones_like(alpha), alpha)
    return torch.where(specks & (alpha >= 0.5), torch.zeros_like(alpha), repaired)


def _upsample(masks: np.ndarray, step: int, height: int, width: int, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(masks.astype(np.float32)).to(device)[:, None]
    grown = F.max_pool2d(tensor, 3, stride=1, padding=1)
    full = F.interpolate(grown, scale_factor=step, mode="nearest") if step > 1 else grown
    return full[..., :height, :width] > 0


def refine_edges(frames: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Fast guided filter (grey guide) in a square band around the edge, as matte_refine.refine_edges."""
    batch, _, height, width = alpha.shape
    radius = max(2, round(min(height, width) / 200))
    subsample = max(1, min(height, width) // 360)
    rgb = frames.permute(0, 3, 1, 2).float()
    grey = (0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]).round() / 255.0
    guide_s, source_s = _area_down(grey, subsample), _area_down(alpha, subsample)
    mean_i, mean_p = box(guide_s, radius), box(source_s, radius)
    covariance = box(guide_s * source_s, radius) - mean_i * mean_p
    a = covariance / (box(guide_s * guide_s, radius) - mean_i * mean_i + GUIDED_EPS)
    b = mean_p - a * mean_i
    mean_a, mean_b = box(a, radius), box(b, radius)
    if subsample > 1:
        mean_a, mean_b = _bilinear(mean_a, height, width), _bilinear(mean_b, height, width)
    filtered = (mean_a * grey + mean_b).clamp(0.0, 1.0)
    solid = (alpha >= 0.5).float()
    size = 2 * radius + 1
    dilated = F.max_pool2d(solid, size, stride=1, padding=radius)
    eroded = -F.max_pool2d(-solid, size, stride=1, padding=radius)
    band = (dilated - eroded) > 0
    return torch.where(band, filtered, alpha)


def despill(frames: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 3) uint8: green limited to max(R, B)."""
    red, green, blue = frames[..., 0], frames[..., 1], frames[..., 2]
    return torch.stack([red, torch.minimum(green, torch.maximum(red, blue)), blue], dim=-1)


@torch.inference_mode()
def matte_batch(frames: torch.Tensor, model: KeyModel) -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha (B, H, W) float32, despilled (B, H, W, 3) uint8) for a batch of frames on any device."""
    alpha = repair_alpha(pull_alpha(frames, model), model)
    alpha = refine_edges(frames, alpha) * _inside(model, frames.shape[1], frames.shape[2], frames.device)
    return alpha[:, 0], despill(frames)
