"""The task types the task center runs, each with the share of a Ray node its task asks for.

The control plane reads this list: the API to accept a type, the task runner to place each task as a
Ray task with its CPUs and GPUs. The functions that run the types (train_jobs/handlers) pull in torch
and the training stack, which the API process never imports. A task that trains on Ray asks little
itself: its Ray Train workers ask for their own CPUs and GPUs (LT_AVATAR_USE_GPU, LT_VOICE_USE_GPU).
"""

from dataclasses import dataclass

from livetalking.platform.avatar_prep import TASK_TYPE as PREPARE_AVATAR
from livetalking.platform.avatar_prep import TRAIN_TASK_TYPE as TRAIN_AVATAR
from livetalking.platform.renders import TASK_TYPE as RENDER
from livetalking.platform.voice_cloning import TASK_TYPE as TRAIN_VOICE

VERIFY_MODELS = "models:verify"
EVALUATE_MODEL = "models:evaluate"


@dataclass(frozen=True)
class TaskResources:
    """What one task of a type reserves on its Ray node (fractions allowed)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0


TASK_TYPES: dict[str, TaskResources] = {
    VERIFY_MODELS: TaskResources(num_cpus=0.25),      # hashing files
    PREPARE_AVATAR: TaskResources(num_cpus=0.25),     # its chunks run as Ray tasks of 1 CPU each
    TRAIN_AVATAR: TaskResources(),                    # evaluation and export; the training is a Ray Train job
    EVALUATE_MODEL: TaskResources(),
    TRAIN_VOICE: TaskResources(),
    RENDER: TaskResources(),
}
