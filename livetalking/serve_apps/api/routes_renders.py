"""Renders: an avatar version says an audio take, or a text in a voice, as a video (a task), then its download."""

import uuid

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from livetalking.platform.renders import RenderRequest, get_render, queue_render, render_file
from livetalking.platform.tables import Task
from livetalking.platform.tasks import task_summary
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors

router = APIRouter(prefix="/api/v1/renders", tags=["renders"], route_class=StrictJSONRoute)


class RenderPublic(BaseModel):
    id: uuid.UUID
    task: dict
    result: dict | None
    video_url: str | None


def _public(task: Task) -> RenderPublic:
    done = task.result is not None and "video" in task.result
    return RenderPublic(id=task.id, task=task_summary(task), result=task.result,
                        video_url=f"/api/v1/renders/{task.id}/video" if done else None)


@router.post("", response_model=RenderPublic, status_code=status.HTTP_202_ACCEPTED, responses=errors(404, 409))
def create(body: RenderRequest, principal: Operator, session: SessionDep, context: ContextDep) -> RenderPublic:
    """Queue a render; follow it with GET /api/v1/renders/{id}."""
    task = queue_render(session, principal.tenant_id, body, principal.key_id, context.task_types,
                        context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return _public(task)


@router.get("/{render_id:uuid}", response_model=RenderPublic)
def show(render_id: uuid.UUID, principal: Viewer, session: SessionDep) -> RenderPublic:
    return _public(get_render(session, principal.tenant_id, render_id))


@router.get("/{render_id:uuid}/video", response_class=Response,
            responses={200: {"content": {"video/mp4": {}, "video/webm": {}}, "description": "the rendered video"},
                       **errors(409, 500, 502)})
def video(render_id: uuid.UUID, principal: Viewer, session: SessionDep, context: ContextDep) -> Response:
    stored = render_file(get_render(session, principal.tenant_id, render_id))
    return Response(context.store.get_bytes(stored["key"], stored["sha256"]), media_type=stored["media_type"],
                    headers={"Content-Disposition": f'attachment; filename="{stored["name"]}"'})
