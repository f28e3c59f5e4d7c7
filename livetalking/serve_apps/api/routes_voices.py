"""Voice cloning again (more takes, fine-tuned from the active version) and the spoken preview."""

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from livetalking.engines.loader import engine_for
from livetalking.media.audio_io import pcm16, wav_bytes, wav_header
from livetalking.platform.personas import get_persona, persona_version
from livetalking.platform.tables import NO_NUL, TaskPublic, Voice
from livetalking.platform.voice_cloning import CloneRequest, queue_cloning
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors

router = APIRouter(prefix="/api/v1/voices", tags=["voices"], route_class=StrictJSONRoute)


class PreviewRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    version: str | None = Field(default=None, max_length=100, pattern=NO_NUL,
                                description="a version (v3) or model id; default: the active one")
    stream: bool = Field(default=False, strict=True,
                         description="send 20 ms chunks as they are made (WAV of unknown length)")


@router.post("/{voice_id:uuid}:clone", response_model=TaskPublic, responses=errors(409, 500))
def clone(voice_id: uuid.UUID, body: CloneRequest, principal: Operator, session: SessionDep, context: ContextDep):
    """Clone the voice again from its takes plus `take_ids`; an offline voice fine-tunes its active version."""
    voice = get_persona(session, Voice, principal.tenant_id, voice_id)
    task = queue_cloning(session, voice, body, principal.key_id, context.task_types,
                         context.settings.task_max_attempts, context.settings.models_root, body.take_ids)
    session.commit()
    context.on_task_queued()
    return task


@router.post("/{voice_id:uuid}:preview", response_class=Response,
             responses={200: {"content": {"audio/wav": {}}, "description": "16-bit mono PCM WAV"},
                        **errors(409, 500, 502)})
def preview(voice_id: uuid.UUID, body: PreviewRequest, principal: Viewer, session: SessionDep, context: ContextDep):
    """Speak `text` in the voice (its active version, or `version`)."""
    voice = get_persona(session, Voice, principal.tenant_id, voice_id)
    model = persona_version(session, voice, body.version, "voice.not_ready")
    engine = engine_for(model, context.store, context.settings)
    headers = {"X-Voice-Version": model.version, "X-Sample-Rate": str(engine.sample_rate)}
    if not body.stream:
        return Response(wav_bytes(engine.synthesize(body.text), engine.sample_rate), media_type="audio/wav",
                        headers=headers)
    chunks = engine.stream(body.text)
    first = next(chunks)

    def body_bytes():
        yield wav_header(engine.sample_rate) + pcm16(first.samples)
        for chunk in chunks:
            yield pcm16(chunk.samples)

    return StreamingResponse(body_bytes(), media_type="audio/wav", headers=headers)
