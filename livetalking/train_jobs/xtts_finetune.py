"""Fine-tuning XTTS-v2's GPT on the person's sentences, as a Ray Train job (a GPU job; it runs on the CPU too).

coqui-tts's GPTTrainer module supplies the pieces: the DVAE (dvae.pth) turns each sentence's audio
into the audio codes the GPT predicts, mel_stats.pth normalises its mels, and the conditioning is
a slice of the same sentence, masked out of the loss. This module owns the loop: AdamW on the GPT
only, bf16 autocast on CUDA, the text + audio-code cross-entropy losses. The result is the base
checkpoint with the GPT replaced, written as a new model.pth.
"""

import shutil
import time
from pathlib import Path

from livetalking.engines.xtts_engine import FINETUNE_FILES, INFERENCE_FILES, require_files
from livetalking.errors import IntegrityFailure
from livetalking.train_jobs.ray_train import report_files, torch_job

CHECKPOINT = "model.pth"


def gpt_trainer(folder: Path):
    """coqui's GPTTrainer around the base checkpoint in `folder`, with its weights verified as loaded."""
    import torch
    from TTS.tts.layers.xtts.trainer.gpt_trainer import GPTTrainer, GPTTrainerConfig

    require_files(folder, INFERENCE_FILES + FINETUNE_FILES)
    config = GPTTrainerConfig()
    config.load_json(str(folder / "config.json"))
    args = config.model_args
    args.xtts_checkpoint, args.tokenizer_file = str(folder / "model.pth"), str(folder / "vocab.json")
    args.dvae_checkpoint, args.mel_norm_file = str(folder / "dvae.pth"), str(folder / "mel_stats.pth")
    trainer = GPTTrainer(config)
    saved = torch.load(folder / "model.pth", map_location="cpu", weights_only=True)["model"]
    probe = "gpt.mel_head.weight"
    if not torch.equal(saved[probe], trainer.xtts.state_dict()[probe]):
        raise IntegrityFailure(f"the GPT weights of {folder / 'model.pth'} did not load", code="voice.xtts_load")
    return trainer, config


def finetune(folder: Path, samples: list[dict], steps: int, lr: float, out: Path, device=None,
             batch_size: int = 2) -> dict:
    """Train the GPT on samples ({audio_file, text, language}) for `steps` and write out/model.pth; the losses."""
    import torch
    from TTS.tts.layers.xtts.trainer.dataset import XTTSDataset

    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trainer, config = gpt_trainer(folder)
    trainer.to(device)
    dataset = XTTSDataset(config, samples, trainer.xtts.tokenizer, config.audio.sample_rate, is_eval=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=min(batch_size, len(samples)), shuffle=True,
                                         collate_fn=dataset.collate_fn, drop_last=True)
    for module in (trainer.xtts.hifigan_decoder, trainer.dvae):
        module.requires_grad_(False)
    optimiser = torch.optim.AdamW(trainer.xtts.gpt.parameters(), lr=lr, betas=(0.9, 0.96), weight_decay=1e-2)
    trainer.xtts.gpt.train()
    started, losses, step = time.perf_counter(), [], 0
    while step < steps:
        for batch in loader:
            batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
            batch = trainer.format_batch_on_device(batch)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                _, loss = trainer.train_step(batch, None)
            optimiser.zero_grad()
            loss["loss"].backward()
            torch.nn.utils.clip_grad_norm_(trainer.xtts.gpt.parameters(), 1.0)
            optimiser.step()
            losses.append(float(loss["loss"].detach()))
            step += 1
            if step >= steps:
                break
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {k: v.detach().cpu() for k, v in trainer.xtts.state_dict().items()}}, out / CHECKPOINT)
    return {"first_loss": losses[0], "last_loss": losses[-1], "steps": step,
            "seconds": round(time.perf_counter() - started, 2)}


def ray_finetune_loop(config: dict) -> None:
    """The Ray Train worker: fine-tune, then report the losses with the new model.pth as the checkpoint."""
    import ray.train.torch

    report_files(lambda folder: finetune(Path(config["folder"]), config["samples"], config["steps"], config["lr"],
                                         folder, device=ray.train.torch.get_device()))


def finetune_job(folder: Path, samples: list[dict], steps: int, lr: float, out: Path, use_gpu: bool) -> dict:
    """Ray Train (TorchTrainer, one worker) when connected to Ray, else the same loop here; writes out/model.pth."""
    import ray

    if not ray.is_initialized():
        return {**finetune(folder, samples, steps, lr, out), "ray_train": 0.0}
    loop_config = {"folder": str(folder), "samples": samples, "steps": steps, "lr": lr}
    with torch_job(ray_finetune_loop, loop_config, use_gpu, "xtts") as (trained, metrics):
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(trained / CHECKPOINT, out / CHECKPOINT)
    return {**metrics, "ray_train": 1.0}
