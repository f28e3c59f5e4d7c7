"""Training the spectral mapper: in this process, or as a Ray Train job (TorchTrainer, one worker, CPU or GPU).

The aligned sequences are cut into overlapping windows; 10 % of them (at least one) are held out
for the validation loss. The loss is the L1 distance in the target's normalised coefficient space.
An incremental update starts from the previous version's weights and normalisation.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livetalking.train_jobs.ray_train import report_files, torch_job

WINDOW = 200
HOP = 100
STATE_FILE = "mapper.pt"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 600
    batch: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0
    hidden: int = 256
    use_gpu: bool = False


def _windows(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n, WINDOW, dims) windows and (n, WINDOW) masks; short sequences are padded at the end."""
    out, masks = [], []
    dims = sequences[0].shape[1]
    for seq in sequences:
        starts = list(range(0, max(len(seq) - WINDOW, 0) + 1, HOP))
        if len(seq) > WINDOW and starts[-1] + WINDOW < len(seq):
            starts.append(len(seq) - WINDOW)
        for start in starts:
            piece = seq[start:start + WINDOW]
            window = np.zeros((WINDOW, dims), np.float32)
            window[:len(piece)] = piece
            mask = np.zeros(WINDOW, np.float32)
            mask[:len(piece)] = 1
            out.append(window)
            masks.append(mask)
    return np.stack(out), np.stack(masks)


def _stats(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    frames = np.concatenate(sequences)
    return frames.mean(axis=0), frames.std(axis=0) + 1e-3


def _device(use_gpu: bool):
    import torch

    return torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")


def _split(groups: list[int], rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """(training, validation) unit indices: about 15 % of the sentence groups (at least one) are held out.

    Units of one group say the same sentence (a retake, a repeated script line): they stay on one side,
    so the validation loss is measured on sentences the mapper never saw.
    """
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        return list(range(len(groups))), list(range(len(groups)))
    order = rng.permutation(distinct)
    held = set(order[: max(1, int(round(len(distinct) * 0.15)))].tolist())
    return ([i for i, g in enumerate(groups) if g not in held], [i for i, g in enumerate(groups) if g in held])


def fit_mapper(sources: list[np.ndarray], targets: list[np.ndarray], config: TrainConfig,
               init_state: dict | None = None, report: Callable[[int, dict], None] = lambda s, m: None,
               device=None, groups: list[int] | None = None) -> tuple[dict, dict]:
    """Train a SpectralMapper on aligned pairs; returns ({step: state_dict on the CPU}, metrics).

    Whole sentences are held out for validation. The candidates kept are the start (step 0: the mean
    shift, or the previous version), the weights with the lowest validation loss, and those at 1/8,
    1/4, 1/2 and all of the steps: the validation L1 does not follow intelligibility (a lower L1
    can mean a smeared, over-smoothed envelope), so the caller picks among them by listening
    metrics (voice_select).
    """
    import torch

    from livetalking.nets.spectral_mapper import SpectralMapper

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = device or _device(config.use_gpu)
    model = SpectralMapper(sources[0].shape[1], config.hidden)
    if init_state is not None:
        model.load_state_dict(init_state)
    else:
        model.set_normalisation(*_stats(sources), *_stats(targets))
    model.to(device)
    train_units, val_units = _split(list(range(len(sources))) if groups is None else groups, rng)
    src, mask = _windows([sources[i] for i in train_units])
    tgt, _ = _windows([targets[i] for i in train_units])
    val_src, val_mask = _windows([sources[i] for i in val_units])
    val_tgt, _ = _windows([targets[i] for i in val_units])

    def tensors(x, y, m):
        x = (torch.from_numpy(x).to(device) - model.in_mean) / model.in_std
        y = (torch.from_numpy(y).to(device) - model.out_mean) / model.out_std
        return x, y, torch.from_numpy(m).to(device)

    def loss_of(x, y, m):
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
        with autocast:
            out = model.normalised(x)
        return ((out.float() - y).abs().mean(dim=2) * m).sum() / m.sum()

    def validate() -> float:
        model.eval()
        with torch.no_grad():
            return float(loss_of(*tensors(val_src, val_tgt, val_mask)))

    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, total_steps=max(config.steps, 1))
    started = time.perf_counter()
    def snapshot() -> dict:
        return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    start_val = best_val = validate()
    best_step = 0
    candidates = {0: snapshot()}
    kept = {max(1, config.steps * n // 8) for n in (1, 2, 4, 8)}
    for step in range(1, config.steps + 1):
        model.train()
        batch = rng.choice(len(src), size=min(config.batch, len(src)), replace=False)
        loss = loss_of(*tensors(src[batch], tgt[batch], mask[batch]))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % max(config.steps // 20, 1) == 0 or step == config.steps:
            val = validate()
            if val < best_val:
                best_val, best_step = val, step
                candidates[step] = snapshot()
            report(step, {"step": step, "train_l1": loss.item(), "val_l1": val})
        if step in kept:
            candidates[step] = snapshot()
    keep = kept | {0, best_step}
    return {k: v for k, v in candidates.items() if k in keep}, {
        "start_val_l1": start_val, "val_l1": best_val, "best_step": best_step, "steps": config.steps,
        "seconds": round(time.perf_counter() - started, 2)}


def ray_train_loop(config: dict) -> None:
    """The Ray Train worker: train, then report the final metrics with the candidates as the checkpoint."""
    import ray.train.torch
    import torch

    data = config["data"]
    candidates, metrics = fit_mapper(data["sources"], data["targets"], TrainConfig(**config["train"]),
                                     data.get("init_state"), device=ray.train.torch.get_device(),
                                     groups=data.get("groups"))

    def save(folder: Path) -> dict:
        torch.save({"candidates": candidates, "metrics": metrics}, folder / STATE_FILE)
        return metrics

    report_files(save)


def train_on_ray(sources: list[np.ndarray], targets: list[np.ndarray], config: TrainConfig,
                 init_state: dict | None = None, groups: list[int] | None = None) -> tuple[dict, dict]:
    """Run `ray_train_loop` as a TorchTrainer job on the connected Ray cluster and load its checkpoint."""
    from dataclasses import asdict

    import torch

    data = {"sources": sources, "targets": targets, "init_state": init_state, "groups": groups}
    with torch_job(ray_train_loop, {"data": data, "train": asdict(config)}, config.use_gpu, "voice") as (folder, _):
        saved = torch.load(folder / STATE_FILE, weights_only=True)
    return saved["candidates"], saved["metrics"]


def train_mapper(sources: list[np.ndarray], targets: list[np.ndarray], config: TrainConfig,
                 init_state: dict | None = None, groups: list[int] | None = None) -> tuple[dict, dict]:
    """Ray Train when this process is connected to Ray, else the same loop in this process."""
    import ray

    if ray.is_initialized():
        candidates, metrics = train_on_ray(sources, targets, config, init_state, groups)
        return candidates, {**metrics, "ray_train": 1.0}
    candidates, metrics = fit_mapper(sources, targets, config, init_state, groups=groups)
    return candidates, {**metrics, "ray_train": 0.0}
