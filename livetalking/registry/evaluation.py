"""Evaluating a registered avatar version again (the models:evaluate task): what can be judged, and queueing it.

The task itself (train_jobs/avatar_evaluation_task.py) judges the version on its avatar's held-out
frames with the gate of the current settings and rolls a failing active version back.
"""

import uuid

from sqlmodel import Session

from livetalking.errors import InvalidInput
from livetalking.platform.tables import ModelKind, ModelVersion, Task
from livetalking.platform.task_types import EVALUATE_MODEL
from livetalking.platform.tasks import create_task
from livetalking.registry.service import get_model

EVALUATE_TASK_TYPE = EVALUATE_MODEL


def check_evaluable(model: ModelVersion) -> None:
    """Only avatar versions the platform trained (a lip-sync model.pt for an avatar) can be judged again."""
    if model.kind is not ModelKind.avatar:
        raise InvalidInput("only avatar versions can be evaluated again; a voice is judged when it is cloned",
                           code="model.evaluate_unsupported")
    if model.target_id is None or "model" not in model.config or "pt" not in model.artifacts:
        raise InvalidInput("only avatar versions trained here (a lip-sync model.pt for an avatar, with its model "
                           "config) can be evaluated again", code="model.evaluate_unsupported")


def queue_evaluation(session: Session, tenant_id: uuid.UUID, model_id: uuid.UUID, actor: uuid.UUID | None,
                     known_types, max_attempts: int) -> Task:
    """Queue the evaluation of one of the tenant's avatar versions."""
    model = get_model(session, tenant_id, model_id)
    check_evaluable(model)
    return create_task(session, tenant_id, EVALUATE_TASK_TYPE, {"model_id": str(model.id)},
                       known_types=known_types, created_by=actor, max_attempts=max_attempts)
