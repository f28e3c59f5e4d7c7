"""Take upload (streamed, validated against the capture spec) and take records."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from livetalking.errors import InvalidInput
from livetalking.platform.takes import (FACE_ID_PATTERN, MIC_PROFILE_PATTERN, TakeUpload, delete_take, get_take,
                                        ingest_take, list_takes)
from livetalking.platform.tables import Take, TakeKind, TakePublic
from livetalking.platform.upload_sessions import assemble, discard
from livetalking.serve_apps.api.deps import Admin, ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors
from livetalking.serve_apps.api.pagination import Limit, Offset
from livetalking.serve_apps.api.uploads import ReceivedForm, receive_multipart

router = APIRouter(prefix="/api/v1/takes", tags=["takes"], route_class=StrictJSONRoute)
KINDS = [kind.value for kind in TakeKind]

UPLOAD_SCHEMA = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "additionalProperties": False,
        "required": ["file", "kind", "face_id", "consent_id"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "MP4/MOV video, WAV audio or PNG/JPEG image"},
            "kind": {"type": "string", "enum": KINDS},
            "face_id": {"type": "string", "pattern": FACE_ID_PATTERN, "description": "the person this take shows"},
            "consent_id": {"type": "string", "format": "uuid"},
            "mic_profile": {"type": "string", "pattern": MIC_PROFILE_PATTERN},
            "normalize": {"type": "boolean", "description": "convert audio of other rates / stereo"},
        }}},
        "application/json": {"schema": {
            "type": "object", "required": ["upload_id", "kind", "face_id", "consent_id"],
            "properties": {"upload_id": {"type": "string", "format": "uuid"},
                           "kind": {"type": "string", "enum": KINDS},
                           "face_id": {"type": "string", "pattern": FACE_ID_PATTERN},
                           "consent_id": {"type": "string", "format": "uuid"},
                           "mic_profile": {"type": "string", "pattern": MIC_PROFILE_PATTERN},
                           "normalize": {"type": "boolean"}}}}}}
}


def _upload_fields(form: ReceivedForm) -> TakeUpload:
    received = form.file("file")
    kind = form.fields.get("kind", "")
    if kind not in TakeKind.__members__:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", code="take.kind")
    raw_consent = form.fields.get("consent_id", "").strip()
    try:
        consent_id = uuid.UUID(raw_consent) if raw_consent else None
    except ValueError as e:
        raise InvalidInput(f"consent_id {raw_consent!r} is not a UUID", code="consent.not_found") from e
    normalize = form.fields.get("normalize", "false").strip().lower()
    if normalize not in ("true", "false", "1", "0"):
        raise InvalidInput(f"normalize must be true or false, got {normalize!r}", code="take.normalize")
    return TakeUpload(path=received.path, filename=received.filename, kind=TakeKind(kind),
                      face_id=form.fields.get("face_id", "").strip(), consent_id=consent_id,
                      mic_profile=form.fields.get("mic_profile") or None, normalize=normalize in ("true", "1"))


class TakeFromUpload(BaseModel):
    """A take whose file arrived through /api/v1/uploads."""

    upload_id: uuid.UUID
    kind: TakeKind
    face_id: str
    consent_id: uuid.UUID | None = None
    mic_profile: str | None = None
    normalize: bool = Field(default=False, strict=True)


def _ingest_upload(context, principal, body: TakeFromUpload) -> Take:
    path, filename = assemble(context.engine, context.store, principal.tenant_id, body.upload_id,
                              context.settings.uploads_dir)
    try:
        upload = TakeUpload(path=path, filename=filename, kind=body.kind, face_id=body.face_id.strip(),
                            consent_id=body.consent_id, mic_profile=body.mic_profile, normalize=body.normalize)
        return ingest_take(context.engine, context.store, context.settings, principal.tenant_id,
                           principal.key_id, upload)
    finally:
        path.unlink(missing_ok=True)
        discard(context.engine, context.store, body.upload_id)


@router.post("", response_model=TakePublic, status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_SCHEMA,
             responses=errors(400, 404, 413, 500, 502))
async def upload(request: Request, principal: Operator, context: ContextDep) -> Take:
    """Validate, store and record a take sent as one multipart request, or (JSON) assembled from a resumable upload.

    A rejected take leaves nothing behind: no file, no row, no upload chunks.
    """
    settings = context.settings
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = TakeFromUpload.model_validate(await request.json())
        except ValidationError as e:
            raise InvalidInput.from_validation(e.errors(), "invalid take request: ") from e
        return await run_in_threadpool(_ingest_upload, context, principal, body)
    async with receive_multipart(request, settings.uploads_dir, settings.max_upload_bytes) as form:
        upload_fields = _upload_fields(form)
        return await run_in_threadpool(ingest_take, context.engine, context.store, settings,
                                       principal.tenant_id, principal.key_id, upload_fields)


@router.get("", response_model=list[TakePublic])
def list_all(principal: Viewer, session: SessionDep,
             face_id: Annotated[str | None, Query(pattern=FACE_ID_PATTERN)] = None, limit: Limit = 50,
             offset: Offset = 0) -> list[Take]:
    return list_takes(session, principal.tenant_id, face_id, limit, offset)


@router.get("/{take_id:uuid}", response_model=TakePublic)
def show(take_id: uuid.UUID, principal: Viewer, session: SessionDep) -> Take:
    return get_take(session, principal.tenant_id, take_id)


@router.delete("/{take_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409, 502))
def delete(take_id: uuid.UUID, principal: Admin, context: ContextDep) -> Response:
    delete_take(context.engine, context.store, principal.tenant_id, take_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
