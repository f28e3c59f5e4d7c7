"""Training loops as one-worker Ray Train jobs (TorchTrainer), with their result files as the checkpoint."""

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def report_files(produce: Callable[[Path], dict]) -> None:
    """Inside a worker: `produce(folder)` writes the result files and returns the final metrics, which are
    reported with the folder as the checkpoint."""
    import ray.train

    with tempfile.TemporaryDirectory() as folder:
        metrics = produce(Path(folder))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))


@contextmanager
def torch_job(loop: Callable[[dict], None], loop_config: dict, use_gpu: bool, name: str) -> Iterator[tuple[Path, dict]]:
    """Run `loop` as a TorchTrainer job of one worker (1 CPU, or 1 GPU) on the connected Ray cluster; yields
    (the checkpoint folder, the final metrics). The run's storage is removed afterwards."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    storage = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        result = TorchTrainer(loop, train_loop_config=loop_config,
                              scaling_config=ScalingConfig(num_workers=1, use_gpu=use_gpu),
                              run_config=RunConfig(name=f"{name}-{uuid.uuid4().hex[:12]}",
                                                   storage_path=str(storage))).fit()
        with result.checkpoint.as_directory() as folder:
            yield Path(folder), dict(result.metrics)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
