"""The model registry API."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from livetalking.errors import Forbidden, InvalidInput
from livetalking.platform.tables import (NO_NUL, ModelKind, ModelStatus, ModelVersion, ModelVersionPublic, Task,
                                        TaskPublic)
from livetalking.registry.card import NAME_PATTERN, ArtifactFormat, ModelCard
from livetalking.registry.evaluation import queue_evaluation
from livetalking.registry.service import (ModelFilter, delete_model, get_model, list_models, parse_card,
                                          promote_model, register_model, rollback_model)
from livetalking.serve_apps.api.deps import Admin, ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors, inline_schema
from livetalking.serve_apps.api.pagination import Limit, Offset
from livetalking.serve_apps.api.uploads import receive_multipart

router = APIRouter(prefix="/api/v1/models", tags=["models"], route_class=StrictJSONRoute)

CARD_SCHEMA = inline_schema(ModelCard)
REGISTER_SCHEMA = {
    "requestBody": {"required": True, "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["card"], "additionalProperties": False,
                       "properties": {"card": {**CARD_SCHEMA, "description": "the model card (a JSON part)"},
                                      **{f.value: {"type": "string", "format": "binary"} for f in ArtifactFormat}}},
            "encoding": {"card": {"contentType": "application/json"}}},
        "application/json": {"schema": {**CARD_SCHEMA,
                                         "description": "a model card whose artifacts name files in the store"}},
    }}
}


class ModelPage(BaseModel):
    items: list[ModelVersionPublic]
    total: int
    limit: int
    offset: int


@router.post("/register", response_model=ModelVersionPublic, status_code=status.HTTP_201_CREATED,
             openapi_extra=REGISTER_SCHEMA, responses=errors(400, 404, 409, 413, 500, 502))
async def register(request: Request, principal: Operator, context: ContextDep) -> ModelVersion:
    """Register a version from a card plus uploaded artifacts (multipart), or a card naming stored artifacts (JSON)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        card = parse_card(await request.json())
        return await run_in_threadpool(register_model, context.engine, context.store, principal.tenant_id,
                                       principal.key_id, card, {})
    settings = context.settings
    async with receive_multipart(request, settings.uploads_dir, settings.max_upload_bytes) as form:
        if "card" not in form.fields:
            raise InvalidInput("the form needs a 'card' field with the model card JSON", code="model.invalid_card")
        card = parse_card(form.fields["card"])
        unknown = sorted(set(form.files) - {f.value for f in ArtifactFormat})
        if unknown:
            raise InvalidInput(f"unknown artifact parts {unknown}; use pt, torchscript or onnx",
                               code="model.unknown_format")
        uploads = {ArtifactFormat(name): received.path for name, received in form.files.items()}
        return await run_in_threadpool(register_model, context.engine, context.store, principal.tenant_id,
                                       principal.key_id, card, uploads)


@router.get("", response_model=ModelPage, responses=errors(403))
def list_all(principal: Viewer, session: SessionDep, kind: ModelKind | None = None,
             status: ModelStatus | None = None,
             backbone: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
             name: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
             target_id: uuid.UUID | None = None, tenant: uuid.UUID | None = None, limit: Limit = 50,
             offset: Offset = 0) -> ModelPage:
    if tenant is not None and tenant != principal.tenant_id:
        raise Forbidden("a key reads only its own tenant", code="auth.cross_tenant")
    rows, total = list_models(session, principal.tenant_id,
                              ModelFilter(kind, status, backbone, name, target_id), limit, offset)
    return ModelPage(items=[ModelVersionPublic.model_validate(r) for r in rows], total=total, limit=limit,
                     offset=offset)


@router.get("/{model_id:uuid}", response_model=ModelVersionPublic)
def show(model_id: uuid.UUID, principal: Viewer, session: SessionDep) -> ModelVersion:
    return get_model(session, principal.tenant_id, model_id)


@router.delete("/{model_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409, 502))
def delete(model_id: uuid.UUID, principal: Admin, context: ContextDep) -> Response:
    delete_model(context.engine, context.store, principal.tenant_id, model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{model_id:uuid}:promote", response_model=ModelVersionPublic, responses=errors(409))
def promote(model_id: uuid.UUID, principal: Operator, context: ContextDep) -> ModelVersion:
    return promote_model(context.engine, principal.tenant_id, model_id)


@router.post("/{model_id:uuid}:rollback", response_model=ModelVersionPublic, responses=errors(409))
def rollback(model_id: uuid.UUID, principal: Operator, context: ContextDep) -> ModelVersion:
    """Roll the active version back; returns the version that is active now."""
    return rollback_model(context.engine, principal.tenant_id, model_id)


@router.post("/{model_id:uuid}:evaluate", response_model=TaskPublic, status_code=status.HTTP_202_ACCEPTED)
def evaluate(model_id: uuid.UUID, principal: Operator, session: SessionDep, context: ContextDep) -> Task:
    """Queue the evaluation of an avatar version on its avatar's held-out frames with the current gate; an active
    version that fails is rolled back to the newest earlier version that passes (follow GET /api/v1/tasks/{id})."""
    task = queue_evaluation(session, principal.tenant_id, model_id, principal.key_id, context.task_types,
                            context.settings.task_max_attempts)
    session.commit()
    context.on_task_queued()
    return task
