"""SQLModel tables of the metadata database (naming: XBase / X(table=True) / XPublic)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Strict, field_validator
from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from livetalking.platform.filenames import SAFE_FILENAME_PATTERN
from livetalking.platform.timeutil import UTCDateTime, utcnow


NO_NUL = r"^[^\x00]*$"  # text a PostgreSQL column can hold


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def json_int(**bounds: int) -> Any:
    """An integer as JSON Schema has it (3 or 3.0, never "3", 3.5 or true), within `bounds` (ge, le, gt)."""
    return Annotated[int, Strict(), Field(**bounds), BeforeValidator(_integral)]


JSONInt = json_int()


def _no_nul(min_length: int, max_length: int, **extra) -> Any:
    return Field(min_length=min_length, max_length=max_length, schema_extra={"pattern": NO_NUL}, **extra)


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


def _json(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=JSON, nullable=False)


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"


class TakeKind(StrEnum):
    video = "video"
    audio = "audio"
    image = "image"


class ModelKind(StrEnum):
    avatar = "avatar"
    voice = "voice"


class ModelStatus(StrEnum):
    candidate = "candidate"
    active = "active"
    rejected = "rejected"
    archived = "archived"


class TaskState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    interrupted = "interrupted"


TERMINAL_TASK_STATES = frozenset({TaskState.succeeded, TaskState.failed, TaskState.cancelled})


class Tenant(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    min_video_short_side: int | None = None
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=100)
    role: Role
    prefix: str = Field(unique=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)
    last_used_at: datetime | None = _ts(nullable=True)


class ApiKeyPublic(SQLModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ConsentBase(SQLModel):
    subject_name: str = _no_nul(1, 200)
    consent_given: bool = Field(schema_extra={"strict": True})
    scope: str = _no_nul(1, 500)
    licence: str = _no_nul(1, 200)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentCreate(ConsentBase):
    @field_validator("expires_at", mode="before")
    @classmethod
    def _text_time(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("expires_at is an ISO 8601 date-time text, such as 2027-01-01T00:00:00Z")
        return value


class Consent(ConsentBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()


class ConsentPublic(ConsentBase):
    id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: datetime


class TakeBase(SQLModel):
    face_id: str = Field(min_length=1, max_length=100, index=True)
    kind: TakeKind
    mic_profile: str | None = Field(default=None, max_length=100)


class Take(TakeBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    consent_id: uuid.UUID = Field(foreign_key="consent.id", index=True)
    original_filename: str = Field(max_length=255)
    container: str = Field(max_length=50)
    codec: str = Field(max_length=50)
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float
    sample_rate: int | None = None
    channels: int | None = None
    chroma_info: dict | None = Field(default=None, sa_type=JSON, nullable=True)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_type=BigInteger)
    storage_key: str = Field(max_length=500)
    validation: dict = _json()
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()


class TakePublic(TakeBase):
    id: uuid.UUID
    tenant_id: uuid.UUID
    consent_id: uuid.UUID
    original_filename: str
    container: str
    codec: str
    fps: float | None
    width: int | None
    height: int | None
    duration_s: float
    sample_rate: int | None
    channels: int | None
    chroma_info: dict | None
    sha256: str
    size_bytes: int
    storage_key: str
    validation: dict
    created_at: datetime


class PersonaBase(SQLModel):
    display_name: str = _no_nul(1, 200)


class PersonaCreate(PersonaBase):
    take_ids: list[uuid.UUID] = []


def _without_null_defaults(schema: dict) -> None:
    """An optional field that may be left out but never set to null: no `default: null` in its schema."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class PersonaUpdate(SQLModel):
    """Fields to change; a field left out keeps its value (null is refused)."""

    model_config = ConfigDict(json_schema_extra=_without_null_defaults)
    display_name: str = _no_nul(1, 200, default=None)


class _PersonaRow(PersonaBase):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    state: str = Field(default="created", max_length=30)
    active_version_id: uuid.UUID | None = Field(default=None, foreign_key="model_version.id")
    model_path: str | None = Field(default=None, max_length=500)
    model_version: str | None = Field(default=None, max_length=100)
    metrics: dict = _json()
    take_ids: list = _json(list)
    task_id: uuid.UUID | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Avatar(_PersonaRow, table=True):
    pass


class Voice(_PersonaRow, table=True):
    pass


class PersonaPublic(PersonaBase):
    id: uuid.UUID
    tenant_id: uuid.UUID
    state: str
    active_version_id: uuid.UUID | None
    model_path: str | None
    model_version: str | None
    metrics: dict
    take_ids: list
    task_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class PreparedTake(SQLModel, table=True):
    """A take prepared for an avatar: where its manifest is and what the quality report said."""

    __tablename__ = "prepared_take"
    __table_args__ = (UniqueConstraint("avatar_id", "take_id", name="uq_prepared_take"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    avatar_id: uuid.UUID = Field(foreign_key="avatar.id", index=True, ondelete="CASCADE")
    take_id: uuid.UUID = Field(foreign_key="take.id", index=True)
    task_id: uuid.UUID | None = None
    verdict: str = Field(max_length=20)
    quality: dict = _json()
    manifest_key: str = Field(max_length=500)
    manifest_sha256: str = Field(max_length=64)
    preview_key: str | None = Field(default=None, max_length=500)
    created_at: datetime = _ts()


class PreparedTakePublic(SQLModel):
    take_id: uuid.UUID
    task_id: uuid.UUID | None
    verdict: str
    quality: dict
    manifest_key: str
    manifest_sha256: str
    created_at: datetime


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", "version", name="uq_model_version_name"),
        Index("ix_model_version_listing", "tenant_id", "created_at", "id"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=200)
    version: str = Field(max_length=100)
    backbone: str = Field(max_length=100, index=True)
    kind: ModelKind = Field(index=True)
    target_id: uuid.UUID | None = Field(default=None, index=True)
    sample_rate: int | None = None
    input_shape: list = _json(list)
    metrics: dict = _json()
    config: dict = _json()
    formats: list = _json(list)
    artifacts: dict = _json()
    status: ModelStatus = Field(default=ModelStatus.candidate, index=True)
    parent_version_id: uuid.UUID | None = None
    replaces_version_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    promoted_at: datetime | None = _ts(nullable=True)


class ModelVersionPublic(SQLModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    version: str
    backbone: str
    kind: ModelKind
    target_id: uuid.UUID | None
    sample_rate: int | None
    input_shape: list
    metrics: dict
    config: dict
    formats: list
    artifacts: dict
    status: ModelStatus
    parent_version_id: uuid.UUID | None
    replaces_version_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime
    promoted_at: datetime | None


class Task(SQLModel, table=True):
    __table_args__ = (Index("ix_task_queue", "state", "priority", "created_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    type: str = Field(max_length=100, index=True)
    state: TaskState = Field(default=TaskState.queued)
    priority: int = 0
    progress: float = 0.0
    message: str = Field(default="", max_length=1000)
    error: str | None = Field(default=None, max_length=4000)
    error_code: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    max_attempts: int = 3
    cancel_requested: bool = False
    payload: dict = _json()
    result: dict = _json()
    checkpoint: dict = _json()
    ray_ref: str | None = Field(default=None, max_length=200)
    runner_id: str | None = Field(default=None, max_length=100)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    started_at: datetime | None = _ts(nullable=True)
    heartbeat_at: datetime | None = _ts(nullable=True)
    finished_at: datetime | None = _ts(nullable=True)


class TaskPublic(SQLModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    type: str
    state: TaskState
    priority: int
    progress: float
    message: str
    error: str | None
    error_code: str | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    payload: dict
    result: dict
    ray_ref: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UploadCreate(SQLModel):
    filename: str = Field(min_length=1, max_length=255, schema_extra={"json_schema_extra": {
        "pattern": SAFE_FILENAME_PATTERN}}, description="a label only: no path, no leading dot, no control characters")
    size_bytes: JSONInt = Field(gt=0)
    sha256: str | None = Field(default=None, schema_extra={"pattern": r"^[0-9a-f]{64}$"})


class Upload(SQLModel, table=True):
    """A resumable upload: the file arrives in fixed-size chunks, each its own request."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    filename: str = Field(max_length=255)
    size_bytes: int = Field(sa_type=BigInteger)
    chunk_bytes: int
    sha256: str | None = Field(default=None, max_length=64)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    expires_at: datetime = _ts(index=True)


class UploadChunk(SQLModel, table=True):
    __tablename__ = "upload_chunk"
    upload_id: uuid.UUID = Field(foreign_key="upload.id", primary_key=True, ondelete="CASCADE")
    index: int = Field(primary_key=True)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=500)


class UploadPublic(SQLModel):
    id: uuid.UUID
    filename: str
    size_bytes: int
    chunk_bytes: int
    chunk_count: int
    received: list[int]
    missing: list[int]
    expires_at: datetime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    request_id: str = Field(max_length=64, index=True)
    tenant_id: uuid.UUID | None = Field(default=None, index=True)
    actor: str = Field(max_length=64)
    role: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=100)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    target: str | None = Field(default=None, max_length=200)
    status_code: int
    outcome: str = Field(max_length=20)


class AuditEventPublic(SQLModel):
    id: int
    at: datetime
    request_id: str
    tenant_id: uuid.UUID | None
    actor: str
    role: str | None
    action: str
    method: str
    path: str
    target: str | None
    status_code: int
    outcome: str


class LiveSession(SQLModel, table=True):
    __tablename__ = "live_session"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True)
    avatar_version_id: uuid.UUID | None = Field(default=None, foreign_key="model_version.id", ondelete="SET NULL")
    voice_version_id: uuid.UUID | None = Field(default=None, foreign_key="model_version.id", ondelete="SET NULL")
    state: str = Field(default="open", max_length=20, index=True)
    started_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)
