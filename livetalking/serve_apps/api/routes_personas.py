"""Avatars and voices: the same CRUD over two tables."""

import uuid

from fastapi import APIRouter, Response, status

from livetalking.engines.catalog import check_engine
from livetalking.platform.personas import (Persona, create_persona, delete_persona, get_persona, list_personas,
                                           update_persona)
from livetalking.platform.tables import Avatar, PersonaCreate, PersonaPublic, PersonaUpdate, Voice
from livetalking.platform.avatar_prep import describe_preparation, queue_preparation
from livetalking.platform.voice_cloning import VoiceCreate, describe_voice, queue_cloning
from livetalking.serve_apps.api.deps import Admin, ContextDep, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors
from livetalking.serve_apps.api.pagination import Limit, Offset


def persona_router(table: type[Avatar] | type[Voice], path: str, on_created=None, detail_model=PersonaPublic,
                   describe=None, create_model: type[PersonaCreate] = PersonaCreate,
                   create_errors: tuple[int, ...] = (404,)) -> APIRouter:
    """CRUD routes for avatars or voices under /api/v1/{path}.

    `on_created(session, context, principal, persona, body)` runs after a create (e.g. to start preparation);
    `describe(session, persona) -> dict` adds fields to the single-item view (`detail_model`).
    """
    router = APIRouter(prefix=f"/api/v1/{path}", tags=[path], route_class=StrictJSONRoute)

    @router.post("", response_model=PersonaPublic, status_code=status.HTTP_201_CREATED,
                 responses=errors(*create_errors))
    def create(body: create_model, principal: Operator, session: SessionDep, context: ContextDep) -> Persona:
        persona = create_persona(session, table, principal.tenant_id, body)
        if on_created is not None:
            on_created(session, context, principal, persona, body)
        session.commit()
        return persona

    @router.get("", response_model=list[PersonaPublic])
    def list_all(principal: Viewer, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[Persona]:
        return list_personas(session, table, principal.tenant_id, limit, offset)

    @router.get("/{persona_id:uuid}", response_model=detail_model)
    def show(persona_id: uuid.UUID, principal: Viewer, session: SessionDep):
        persona = get_persona(session, table, principal.tenant_id, persona_id)
        if describe is None:
            return persona
        return {**PersonaPublic.model_validate(persona).model_dump(), **describe(session, persona)}

    @router.patch("/{persona_id:uuid}", response_model=PersonaPublic)
    def update(persona_id: uuid.UUID, body: PersonaUpdate, principal: Operator, session: SessionDep) -> Persona:
        persona = update_persona(session, table, principal.tenant_id, persona_id, body)
        session.commit()
        return persona

    @router.delete("/{persona_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
    def delete(persona_id: uuid.UUID, principal: Admin, session: SessionDep) -> Response:
        delete_persona(session, table, principal.tenant_id, persona_id)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def _start_preparation(session, context, principal, avatar: Avatar, body: PersonaCreate) -> None:
    if avatar.take_ids:
        queue_preparation(session, avatar, principal.key_id, context.task_types, context.settings.task_max_attempts)
        session.commit()
        context.on_task_queued()


class AvatarDetail(PersonaPublic):
    task: dict | None
    prepared_takes: list[dict]
    preview_url: str | None


avatars_router = persona_router(Avatar, "avatars", on_created=_start_preparation, detail_model=AvatarDetail,
                                describe=describe_preparation)


def _start_cloning(session, context, principal, voice: Voice, body: VoiceCreate) -> None:
    check_engine(body.engine, body.language)  # refused at once, even with no takes to clone yet
    if voice.take_ids:
        queue_cloning(session, voice, body, principal.key_id, context.task_types, context.settings.task_max_attempts,
                      context.settings.models_root)
        session.commit()
        context.on_task_queued()


class VoiceDetail(PersonaPublic):
    task: dict | None
    engine: str | None
    sample_rate: int | None


voices_router = persona_router(Voice, "voices", on_created=_start_cloning, detail_model=VoiceDetail,
                               describe=describe_voice, create_model=VoiceCreate, create_errors=(404, 500))
