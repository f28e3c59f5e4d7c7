"""Starting and describing avatar preparation (the avatars:preprocess task) and training (avatars:train)."""

import uuid
from typing import Literal

from pydantic import Field
from sqlmodel import Session, SQLModel, col, select

from livetalking.errors import Conflict, NotFound
from livetalking.platform.tables import Avatar, PreparedTake, PreparedTakePublic, Task, json_int
from livetalking.platform.tasks import create_task, task_summary

TASK_TYPE = "avatars:preprocess"
TRAIN_TASK_TYPE = "avatars:train"


class TrainRequest(SQLModel):
    """How to train: the preset (preview: 160 px for CPUs; quality: 256 px for GPUs), an epoch count, and a tuning
    search first."""

    preset: Literal["preview", "quality"] | None = Field(default=None, description="default: LT_AVATAR_PRESET")
    epochs: json_int(ge=1, le=2000) | None = Field(default=None, description="default: the preset's")
    tune: json_int(ge=2, le=64) | None = Field(default=None, description="Ray Tune (ASHA) trials over the learning "
                                               "rate and loss weights before the final training (default: none; "
                                               "each trial is a training run)")


def queue_preparation(session: Session, avatar: Avatar, actor: uuid.UUID | None, known_types,
                      max_attempts: int) -> Task:
    """Queue the preparation of the avatar's takes and remember the task on the avatar."""
    if not avatar.take_ids:
        raise Conflict("the avatar has no takes to prepare; create it with take_ids", code="avatar.no_takes")
    task = create_task(session, avatar.tenant_id, TASK_TYPE, {"avatar_id": str(avatar.id)}, known_types=known_types,
                       created_by=actor, max_attempts=max_attempts)
    avatar.task_id, avatar.state = task.id, "queued"
    session.add(avatar)
    return task


def queue_training(session: Session, avatar: Avatar, request: TrainRequest, actor: uuid.UUID | None, known_types,
                   max_attempts: int) -> Task:
    """Queue the training of the avatar's lip-sync model; refused until a prepared take was accepted."""
    if not any(r.verdict == "accepted" for r in prepared_takes(session, avatar.id)):
        raise Conflict("the avatar has no accepted prepared take to train from; prepare it first",
                       code="avatar.not_prepared")
    task = create_task(session, avatar.tenant_id, TRAIN_TASK_TYPE,
                       {"avatar_id": str(avatar.id), **request.model_dump(exclude_none=True)},
                       known_types=known_types, created_by=actor, max_attempts=max_attempts)
    avatar.task_id, avatar.state = task.id, "queued"
    session.add(avatar)
    return task


def prepared_takes(session: Session, avatar_id: uuid.UUID) -> list[PreparedTake]:
    return list(session.exec(select(PreparedTake).where(PreparedTake.avatar_id == avatar_id)
                             .order_by(col(PreparedTake.created_at))))


def describe_preparation(session: Session, avatar: Avatar) -> dict:
    """State, task progress, quality reports per take and the preview URL (when there is one)."""
    task = session.get(Task, avatar.task_id) if avatar.task_id else None
    rows = prepared_takes(session, avatar.id)
    return {
        "task": task_summary(task),
        "prepared_takes": [PreparedTakePublic.model_validate(r).model_dump(mode="json") for r in rows],
        "preview_url": f"/api/v1/avatars/{avatar.id}/preview.png" if any(r.preview_key for r in rows) else None,
    }


def preview_key(session: Session, avatar_id: uuid.UUID) -> str:
    """The store key of the newest preview image."""
    rows = [r for r in prepared_takes(session, avatar_id) if r.preview_key]
    if not rows:
        raise NotFound("the avatar has no preview yet: prepare it first", code="avatar.not_prepared")
    return rows[-1].preview_key
