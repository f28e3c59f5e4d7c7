"""Avatars and voices: the same CRUD over two tables."""

import uuid

from fastapi import APIRouter, Response, status

from livetalking.platform.personas import (Persona, create_persona, delete_persona, get_persona, list_personas,
                                           update_persona)
from livetalking.platform.tables import Avatar, PersonaCreate, PersonaPublic, PersonaUpdate, Voice
from livetalking.serve_apps.api.deps import Admin, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.pagination import Limit, Offset


def persona_router(table: type[Avatar] | type[Voice], path: str) -> APIRouter:
    """CRUD routes for avatars or voices under /api/v1/{path}."""
    router = APIRouter(prefix=f"/api/v1/{path}", tags=[path])

    @router.post("", response_model=PersonaPublic, status_code=status.HTTP_201_CREATED)
    def create(body: PersonaCreate, principal: Operator, session: SessionDep) -> Persona:
        return create_persona(session, table, principal.tenant_id, body)

    @router.get("", response_model=list[PersonaPublic])
    def list_all(principal: Viewer, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[Persona]:
        return list_personas(session, table, principal.tenant_id, limit, offset)

    @router.get("/{persona_id}", response_model=PersonaPublic)
    def show(persona_id: uuid.UUID, principal: Viewer, session: SessionDep) -> Persona:
        return get_persona(session, table, principal.tenant_id, persona_id)

    @router.patch("/{persona_id}", response_model=PersonaPublic)
    def update(persona_id: uuid.UUID, body: PersonaUpdate, principal: Operator, session: SessionDep) -> Persona:
        return update_persona(session, table, principal.tenant_id, persona_id, body)

    @router.delete("/{persona_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete(persona_id: uuid.UUID, principal: Admin, session: SessionDep) -> Response:
        delete_persona(session, table, principal.tenant_id, persona_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


avatars_router = persona_router(Avatar, "avatars")
voices_router = persona_router(Voice, "voices")
