"""Avatar preparation (start it again, the preview image) and training of its lip-sync model."""

import uuid

from fastapi import APIRouter, Response

from livetalking.platform.avatar_prep import TrainRequest, preview_key, queue_preparation, queue_training
from livetalking.platform.personas import get_persona
from livetalking.platform.tables import Avatar, TaskPublic
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors

router = APIRouter(prefix="/api/v1/avatars", tags=["avatars"], route_class=StrictJSONRoute)


@router.post("/{avatar_id:uuid}:prepare", response_model=TaskPublic, responses=errors(409))
def prepare(avatar_id: uuid.UUID, principal: Operator, session: SessionDep, context: ContextDep):
    """Queue the preparation of the avatar's takes (again)."""
    avatar = get_persona(session, Avatar, principal.tenant_id, avatar_id)
    task = queue_preparation(session, avatar, principal.key_id, context.task_types, context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return task


@router.post("/{avatar_id:uuid}:train", response_model=TaskPublic, responses=errors(409))
def train(avatar_id: uuid.UUID, body: TrainRequest, principal: Operator, session: SessionDep, context: ContextDep):
    """Queue the training of the avatar's lip-sync model from its accepted prepared takes; a model of the same
    shape as the active version fine-tunes from it."""
    avatar = get_persona(session, Avatar, principal.tenant_id, avatar_id)
    task = queue_training(session, avatar, body, principal.key_id, context.task_types,
                          context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return task


@router.get("/{avatar_id:uuid}/preview.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "a composited frame beside its matte"},
                       **errors(500, 502)})
def preview(avatar_id: uuid.UUID, principal: Viewer, session: SessionDep, context: ContextDep) -> Response:
    get_persona(session, Avatar, principal.tenant_id, avatar_id)
    return Response(content=context.store.get_bytes(preview_key(session, avatar_id)), media_type="image/png")
