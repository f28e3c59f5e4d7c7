"""Training loops as Ray Train jobs (TorchTrainer): N workers, DDP, checkpoints in a run storage, resume on failure.

The run storage is `storage` when given (a folder every node sees, or an S3 URI on a cluster);
otherwise a temporary folder on this machine, which only a single-node (local mode) cluster can
share, removed after the run.
"""

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
def torch_job(loop: Callable[[dict], None], loop_config: dict, use_gpu: bool, name: str, workers: int = 1,
              storage: str | None = None, max_failures: int = 0,
              run_name: str | None = None) -> Iterator[tuple[Path, dict]]:
    """Run `loop` as a TorchTrainer job of `workers` workers (1 CPU, or 1 GPU, each) on the connected Ray cluster;
    a worker that dies is restarted up to `max_failures` times from the last reported checkpoint. Yields
    (the last checkpoint's folder, the final metrics). A `run_name` already in `storage` resumes that run."""
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    temporary = storage is None
    root = tempfile.mkdtemp(prefix=f"{name}-") if temporary else storage
    try:
        run = RunConfig(name=run_name or f"{name}-{uuid.uuid4().hex[:12]}", storage_path=str(root),
                        failure_config=FailureConfig(max_failures=max_failures),
                        checkpoint_config=CheckpointConfig(num_to_keep=2))
        result = TorchTrainer(loop, train_loop_config=loop_config,
                              scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu), run_config=run).fit()
        with result.checkpoint.as_directory() as folder:
            yield Path(folder), dict(result.metrics)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
