"""Resumable uploads: open, send numbered chunks (small requests: no hop buffers a whole file), inspect, abort."""

import uuid

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from livetalking.errors import InvalidInput
from livetalking.platform.tables import UploadCreate, UploadPublic
from livetalking.platform.upload_sessions import describe, discard, get_upload, open_upload, store_chunk
from livetalking.serve_apps.api.deps import ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"], route_class=StrictJSONRoute)


@router.post("", response_model=UploadPublic, status_code=status.HTTP_201_CREATED, responses=errors(413))
def create(body: UploadCreate, principal: Operator, session: SessionDep, context: ContextDep) -> UploadPublic:
    """Open an upload; then PUT each chunk (chunk_bytes long, the last one shorter) and use the id in a take."""
    upload = open_upload(session, context.settings, principal.tenant_id, principal.key_id, body)
    session.commit()
    return describe(session, upload)


@router.get("/{upload_id:uuid}", response_model=UploadPublic)
def show(upload_id: uuid.UUID, principal: Viewer, session: SessionDep) -> UploadPublic:
    """Which chunks have arrived and which are missing."""
    return describe(session, get_upload(session, principal.tenant_id, upload_id))


@router.put("/{upload_id:uuid}/chunks/{index}", response_model=UploadPublic, responses=errors(500, 502),
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def put_chunk(upload_id: uuid.UUID, index: int, request: Request, principal: Operator,
                    context: ContextDep) -> UploadPublic:
    """Store chunk `index` (sending it again replaces it)."""
    limit = context.settings.upload_chunk_bytes
    scratch = context.settings.uploads_dir
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"chunk-{uuid.uuid4().hex}"
    try:
        size = 0
        with open(path, "wb") as out:
            async for block in request.stream():
                size += len(block)
                if size > limit:
                    raise InvalidInput(f"a chunk may hold at most {limit} bytes", code="upload.chunk_size",
                                       details={"rule": "chunk size", "expected": limit})
                out.write(block)
        return await run_in_threadpool(store_chunk, context.engine, context.store, principal.tenant_id, upload_id,
                                       index, path)
    finally:
        path.unlink(missing_ok=True)


@router.delete("/{upload_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(502))
def abort(upload_id: uuid.UUID, principal: Operator, session: SessionDep, context: ContextDep) -> Response:
    """Abort an upload and remove what arrived."""
    get_upload(session, principal.tenant_id, upload_id)
    session.commit()
    discard(context.engine, context.store, upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
