"""Take ingest: validate an uploaded file against the capture spec, store it, and record it; or leave nothing."""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from livetalking.errors import Conflict, InvalidInput
from livetalking.media.capture_spec import (CaptureSpec, check_extension, validate_audio, validate_image,
                                             validate_video)
from livetalking.platform.consent import require_valid_consent
from livetalking.platform.db import session_scope
from livetalking.platform.store import ArtifactStore, scoped_key
from livetalking.platform.tables import PreparedTake, Take, TakeKind, Tenant
from livetalking.platform.tenancy import get_owned
from livetalking.settings import Settings

FACE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MIC_PROFILE_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"
_FACE_ID = re.compile(FACE_ID_PATTERN)
_MIC_PROFILE = re.compile(MIC_PROFILE_PATTERN)


@dataclass(frozen=True)
class TakeUpload:
    """A received upload on local disk plus the form fields that came with it."""

    path: Path
    filename: str
    kind: TakeKind
    face_id: str
    consent_id: uuid.UUID | None
    mic_profile: str | None
    normalize: bool


def capture_spec(settings: Settings, tenant: Tenant) -> CaptureSpec:
    """The capture spec for this tenant (a tenant may allow a smaller short side)."""
    return CaptureSpec(
        min_short_side=tenant.min_video_short_side or settings.video_min_short_side,
        video_min_duration_s=settings.video_min_duration_s,
        video_max_duration_s=settings.video_max_duration_s,
        audio_min_duration_s=settings.audio_min_duration_s,
        audio_max_duration_s=settings.audio_max_duration_s,
    )


def ingest_take(engine: Engine, store: ArtifactStore, settings: Settings, tenant_id: uuid.UUID,
                actor: uuid.UUID, upload: TakeUpload) -> Take:
    """Validate, store and record one take. On any failure nothing stays in the store or the database."""
    if not _FACE_ID.fullmatch(upload.face_id):
        raise InvalidInput("face_id must be 1-100 letters, digits, '.', '_' or '-'", code="take.face_id")
    if upload.mic_profile is not None and not _MIC_PROFILE.fullmatch(upload.mic_profile):
        raise InvalidInput("mic_profile must be 1-100 characters without control characters",
                           code="take.mic_profile")
    check_extension(upload.filename, upload.kind.value)
    with session_scope(engine) as session:
        require_valid_consent(session, tenant_id, upload.consent_id)
        spec = capture_spec(settings, session.get(Tenant, tenant_id))
    take_id = uuid.uuid4()
    report, stored_path, fields = _validated(upload, spec)
    suffix = Path(upload.filename).suffix.lower()
    key = scoped_key(tenant_id, "takes", upload.face_id, str(take_id), f"source{suffix}")
    try:
        stored = store.put_file(key, stored_path)
    finally:
        if stored_path != upload.path:
            stored_path.unlink(missing_ok=True)
    try:
        with session_scope(engine) as session:
            take = Take(id=take_id, tenant_id=tenant_id, consent_id=upload.consent_id, face_id=upload.face_id,
                        kind=upload.kind, mic_profile=upload.mic_profile, original_filename=upload.filename,
                        sha256=stored.sha256, size_bytes=stored.size, storage_key=stored.key,
                        validation=report, created_by=actor, **fields)
            session.add(take)
    except BaseException:
        store.delete(key)
        raise
    return take


def _validated(upload: TakeUpload, spec: CaptureSpec) -> tuple[dict, Path, dict]:
    """Check the file against the spec of its kind: the report, the file to store and the take's media fields."""
    if upload.kind is TakeKind.video:
        video, report = validate_video(upload.path, spec)
        return report, upload.path, dict(container="mp4", codec=video.codec, fps=round(video.fps, 3),
                                         width=video.width, height=video.height, duration_s=video.duration_s,
                                         chroma_info=report["chroma"])
    if upload.kind is TakeKind.image:
        image, report = validate_image(upload.path)
        return report, upload.path, dict(container=report["format"], codec=image.codec, width=image.width,
                                         height=image.height, duration_s=0.0)
    audio, report, stored_path = validate_audio(upload.path, spec, upload.normalize, upload.path.parent)
    return report, stored_path, dict(container=audio.container, codec=audio.codec, duration_s=audio.duration_s,
                                     sample_rate=audio.sample_rate, channels=audio.channels)


def get_take(session: Session, tenant_id: uuid.UUID, take_id: uuid.UUID) -> Take:
    """A take of this tenant, or NotFound."""
    return get_owned(session, Take, tenant_id, take_id, "take")


def list_takes(session: Session, tenant_id: uuid.UUID, face_id: str | None, limit: int, offset: int) -> list[Take]:
    """The tenant's takes, newest first."""
    query = select(Take).where(Take.tenant_id == tenant_id)
    if face_id:
        query = query.where(Take.face_id == face_id)
    return list(session.exec(query.order_by(Take.created_at.desc()).offset(offset).limit(limit)))


def delete_take(engine: Engine, store: ArtifactStore, tenant_id: uuid.UUID, take_id: uuid.UUID) -> None:
    """Delete the row first, then its artifact."""
    with session_scope(engine) as session:
        take = get_take(session, tenant_id, take_id)
        if session.exec(select(PreparedTake.id).where(PreparedTake.take_id == take_id).limit(1)).first():
            raise Conflict("an avatar was prepared from this take; delete the avatar first", code="take.in_use")
        key = take.storage_key
        session.delete(take)
    store.delete(key)
