"""Resumable uploads: a file arrives as numbered fixed-size chunks (each an artifact), then is assembled once."""

import hashlib
import math
import os
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from livetalking.errors import InvalidInput, NotFound, PayloadTooLarge
from livetalking.platform.db import session_scope
from livetalking.platform.filenames import check_filename
from livetalking.platform.store import CHUNK, ArtifactStore, scoped_key
from livetalking.platform.tables import Upload, UploadChunk, UploadCreate, UploadPublic
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow
from livetalking.settings import Settings


def chunk_count(upload: Upload) -> int:
    return math.ceil(upload.size_bytes / upload.chunk_bytes)


def expected_chunk_size(upload: Upload, index: int) -> int:
    """Every chunk is chunk_bytes long except the last, which holds the rest."""
    if not 0 <= index < chunk_count(upload):
        raise InvalidInput(f"chunk index {index} is outside 0..{chunk_count(upload) - 1}",
                           code="upload.chunk_index")
    return min(upload.chunk_bytes, upload.size_bytes - index * upload.chunk_bytes)


def open_upload(session: Session, settings: Settings, tenant_id: uuid.UUID, actor: uuid.UUID | None,
                data: UploadCreate) -> Upload:
    """Start a resumable upload of a file of known size."""
    check_filename(data.filename)
    if data.size_bytes > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the upload declares {data.size_bytes} bytes; the limit is {settings.max_upload_bytes}",
                              details={"rule": "max upload size", "measured": data.size_bytes,
                                       "expected": settings.max_upload_bytes})
    upload = Upload(tenant_id=tenant_id, filename=data.filename, size_bytes=data.size_bytes,
                    chunk_bytes=settings.upload_chunk_bytes, sha256=data.sha256, created_by=actor,
                    expires_at=utcnow() + timedelta(seconds=settings.upload_expiry_s))
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, tenant_id: uuid.UUID, upload_id: uuid.UUID) -> Upload:
    """An unexpired upload of this tenant, or NotFound."""
    upload = get_owned(session, Upload, tenant_id, upload_id, "upload")
    if upload.expires_at <= utcnow():
        raise NotFound(f"upload {upload_id} expired at {upload.expires_at.isoformat()}", code="upload.not_found")
    return upload


def describe(session: Session, upload: Upload) -> UploadPublic:
    """What has arrived and what is missing, for a client that resumes."""
    received = sorted(session.exec(select(UploadChunk.index).where(UploadChunk.upload_id == upload.id)).all())
    have = set(received)
    return UploadPublic(id=upload.id, filename=upload.filename, size_bytes=upload.size_bytes,
                        chunk_bytes=upload.chunk_bytes, chunk_count=chunk_count(upload), received=received,
                        missing=[i for i in range(chunk_count(upload)) if i not in have],
                        expires_at=upload.expires_at)


def _chunk_key(upload: Upload, index: int) -> str:
    return scoped_key(upload.tenant_id, "uploads", str(upload.id), f"chunk-{index:06d}")


def store_chunk(engine: Engine, store: ArtifactStore, tenant_id: uuid.UUID, upload_id: uuid.UUID, index: int,
                path: Path) -> UploadPublic:
    """Keep one received chunk (a resend replaces it); its size must be exactly the expected one."""
    with session_scope(engine) as session:
        upload = get_upload(session, tenant_id, upload_id)
        expected = expected_chunk_size(upload, index)
    size = path.stat().st_size
    if size != expected:
        raise InvalidInput(f"chunk {index} has {size} bytes; {expected} were expected", code="upload.chunk_size",
                           details={"rule": "chunk size", "measured": size, "expected": expected})
    stored = store.put_file(_chunk_key(upload, index), path)
    with session_scope(engine) as session:
        row = session.get(UploadChunk, (upload_id, index))
        if row is None:
            row = UploadChunk(upload_id=upload_id, index=index, size_bytes=size, sha256=stored.sha256,
                              storage_key=stored.key)
        row.sha256, row.size_bytes = stored.sha256, size
        session.add(row)
    with session_scope(engine) as session:
        return describe(session, get_upload(session, tenant_id, upload_id))


def assemble(engine: Engine, store: ArtifactStore, tenant_id: uuid.UUID, upload_id: uuid.UUID,
             dest_dir: Path) -> tuple[Path, str]:
    """Concatenate every chunk (each verified) into one local file; returns it and the client's file name."""
    with session_scope(engine) as session:
        upload = get_upload(session, tenant_id, upload_id)
        status = describe(session, upload)
        chunks = session.exec(select(UploadChunk).where(UploadChunk.upload_id == upload_id)
                              .order_by(col(UploadChunk.index))).all()
    if status.missing:
        raise InvalidInput(f"the upload is incomplete: {len(status.missing)} of {status.chunk_count} chunks missing "
                           f"(first {status.missing[0]})", code="upload.incomplete",
                           details={"missing": status.missing[:100]})
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"upload-{upload_id.hex}-{uuid.uuid4().hex[:8]}"
    digest = hashlib.sha256()
    try:
        with open(target, "wb") as out:
            for chunk in chunks:
                with store.open_local(chunk.storage_key, sha256=chunk.sha256) as part, open(part, "rb") as src:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if upload.sha256 is not None and digest.hexdigest() != upload.sha256:
            raise InvalidInput(f"the assembled file has sha256 {digest.hexdigest()}, the client declared "
                               f"{upload.sha256}", code="upload.sha256_mismatch")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, upload.filename


def discard(engine: Engine, store: ArtifactStore, upload_id: uuid.UUID) -> None:
    """Forget an upload: rows first, then its chunk artifacts."""
    with session_scope(engine) as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            return
        keys = list(session.exec(select(UploadChunk.storage_key).where(UploadChunk.upload_id == upload_id)))
        session.delete(upload)  # the chunk rows go with it (ON DELETE CASCADE)
    for key in keys:
        store.delete(key)


def purge_expired(engine: Engine, store: ArtifactStore) -> int:
    """Discard every upload past its expiry; returns how many."""
    with session_scope(engine) as session:
        expired = session.exec(select(Upload.id).where(col(Upload.expires_at) <= utcnow())).all()
    for upload_id in expired:
        discard(engine, store, upload_id)
    return len(expired)
