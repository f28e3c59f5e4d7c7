"""Render requests (the renders:create task): an avatar version says an audio take, or a text in a voice, as a video.

A render is its task: `GET /api/v1/renders/{id}` is the task's state, progress and result, and the
video is downloadable once it succeeded. Everything that can be checked without decoding is checked
when the request arrives, so a bad request queues nothing.
"""

import re
import uuid

from pydantic import ConfigDict, Field, model_validator
from sqlmodel import Session, SQLModel

from livetalking.errors import Conflict, InvalidInput, NotFound
from livetalking.platform.personas import persona_version
from livetalking.platform.tables import NO_NUL, Avatar, Take, TakeKind, Task, TaskState, Voice
from livetalking.platform.tasks import create_task, get_task
from livetalking.platform.tenancy import get_owned

TASK_TYPE = "renders:create"
BACKGROUND_PATTERN = r"^(#[0-9a-fA-F]{6}|transparent)$"
_BACKGROUND = re.compile(BACKGROUND_PATTERN)
DEFAULT_BACKGROUND = "#00b140"


def _request_rules(schema: dict) -> None:
    """The schema states what _one_source checks: one source of speech, a valid background, a background take
    only with the default colour."""
    schema["properties"]["background"]["pattern"] = BACKGROUND_PATTERN
    by_audio = {"required": ["audio_take_id"], "properties": {
        "audio_take_id": {"type": "string"}, "text": {"type": "null"}, "voice_id": {"type": "null"}}}
    by_text = {"required": ["text", "voice_id"], "properties": {
        "audio_take_id": {"type": "null"}, "text": {"type": "string"}, "voice_id": {"type": "string"}}}
    schema["oneOf"] = [by_audio, by_text]
    schema["if"] = {"required": ["background_take_id"], "properties": {"background_take_id": {"type": "string"}}}
    schema["then"] = {"properties": {"background": {"const": DEFAULT_BACKGROUND}}}


class RenderRequest(SQLModel):
    """What to say (an audio take, or text with a voice), with which avatar version, over which background."""

    model_config = ConfigDict(json_schema_extra=_request_rules)

    avatar_id: uuid.UUID
    version: str | None = Field(default=None, max_length=100, pattern=NO_NUL,
                                description="v3 or a model id; default: the active")
    audio_take_id: uuid.UUID | None = None
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    voice_id: uuid.UUID | None = None
    background: str = Field(default=DEFAULT_BACKGROUND, max_length=20,
                            description="a colour #RRGGBB (MP4, H.264 + AAC) or 'transparent' (WebM, VP9 with alpha)")
    background_take_id: uuid.UUID | None = Field(
        default=None, description="an image take to render over instead (MP4), scaled to cover the frame")

    @model_validator(mode="after")
    def _one_source(self) -> "RenderRequest":
        by_text = self.text is not None or self.voice_id is not None
        if (self.audio_take_id is None) == (not by_text) or (by_text and (self.text is None or self.voice_id is None)):
            raise ValueError("give either audio_take_id, or text together with voice_id")
        if not _BACKGROUND.fullmatch(self.background):
            raise ValueError("background must be a colour #RRGGBB or 'transparent'")
        if self.background_take_id is not None and self.background != DEFAULT_BACKGROUND:
            raise ValueError("give either a background colour (or 'transparent') or background_take_id, not both")
        return self


def queue_render(session: Session, tenant_id: uuid.UUID, request: RenderRequest, actor: uuid.UUID | None,
                 known_types, max_attempts: int) -> Task:
    """Check the request against the tenant's avatars, takes and voices, then queue the render."""
    avatar = get_owned(session, Avatar, tenant_id, request.avatar_id, "avatar")
    model = persona_version(session, avatar, request.version, "avatar.not_trained")
    if request.audio_take_id is not None:
        _take_of_kind(session, tenant_id, request.audio_take_id, TakeKind.audio, "render.audio_take_kind",
                      "a render speaks an audio take")
    else:
        voice = get_owned(session, Voice, tenant_id, request.voice_id, "voice")
        if voice.active_version_id is None:
            raise Conflict("the voice has no active version yet: clone it first", code="voice.not_ready")
    if request.background_take_id is not None:
        _take_of_kind(session, tenant_id, request.background_take_id, TakeKind.image, "render.background_take_kind",
                      "a render's background is an image take")
    payload = {**request.model_dump(mode="json", exclude_none=True), "model_id": str(model.id)}
    return create_task(session, tenant_id, TASK_TYPE, payload, known_types=known_types, created_by=actor,
                       max_attempts=max_attempts)


def _take_of_kind(session: Session, tenant_id: uuid.UUID, take_id: uuid.UUID, kind: TakeKind, code: str,
                  rule: str) -> None:
    """The take is the tenant's (else NotFound) and of this kind (else InvalidInput `code`)."""
    take = get_owned(session, Take, tenant_id, take_id, "take")
    if take.kind is not kind:
        raise InvalidInput(f"take {take.id} is a {take.kind.value} take; {rule}", code=code)


def get_render(session: Session, tenant_id: uuid.UUID, render_id: uuid.UUID) -> Task:
    """The render's task, or NotFound."""
    try:
        task = get_task(session, tenant_id, render_id)
    except NotFound as e:
        raise NotFound(f"render {render_id} not found", code="render.not_found") from e
    if task.type != TASK_TYPE:
        raise NotFound(f"render {render_id} not found", code="render.not_found")
    return task


def render_file(task: Task) -> dict:
    """The stored video of a finished render."""
    if task.state is not TaskState.succeeded:
        raise Conflict(f"the render is {task.state.value}; its video is there once it succeeded",
                       code="render.not_ready")
    return task.result["video"]
