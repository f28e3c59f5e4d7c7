"""Avatars and voices: the named personas that model versions animate or speak for."""

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from livetalking.errors import Conflict, InvalidInput, NotFound
from livetalking.platform.db import session_scope
from livetalking.platform.tables import Avatar, ModelVersion, PersonaCreate, PersonaUpdate, Take, TakeKind, Voice
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow

Persona = Avatar | Voice
TAKE_KIND = {Avatar: TakeKind.video, Voice: TakeKind.audio}


def _noun(table: type[Persona]) -> str:
    return table.__name__.lower()


def create_persona(session: Session, table: type[Persona], tenant_id: uuid.UUID, data: PersonaCreate) -> Persona:
    """Create an avatar (from video takes) or a voice (from audio takes) of this tenant."""
    check_takes(session, table, tenant_id, data.take_ids)
    persona = table(display_name=data.display_name, tenant_id=tenant_id,
                    take_ids=[str(t) for t in data.take_ids])
    session.add(persona)
    session.flush()
    return persona


def check_takes(session: Session, table: type[Persona], tenant_id: uuid.UUID, take_ids) -> None:
    """Every take is the tenant's and of the kind the avatar (video) or voice (audio) is made from."""
    for take_id in take_ids:
        take = get_owned(session, Take, tenant_id, take_id, "take")
        if take.kind is not TAKE_KIND[table]:
            raise InvalidInput(f"a {_noun(table)} is made from {TAKE_KIND[table].value} takes; "
                               f"take {take_id} is {take.kind.value}", code=f"{_noun(table)}.take_kind")


def set_state(engine: Engine, table: type[Persona], persona_id: uuid.UUID, state: str,
              metrics: dict | None = None) -> None:
    """Record an avatar's or voice's state (a task's progress through it), and, while it has no active
    version, the metrics that explain it."""
    with session_scope(engine) as session:
        persona = session.get(table, persona_id)
        persona.state, persona.updated_at = state, utcnow()
        if metrics is not None and persona.active_version_id is None:
            persona.metrics = metrics
        session.add(persona)


def persona_version(session: Session, persona: Persona, wanted: str | None, not_ready: str) -> ModelVersion:
    """The persona's active version (Conflict `not_ready` when it has none), or the named one (v3 or a model id)."""
    noun = _noun(type(persona))
    if wanted is None:
        if persona.active_version_id is None:
            action = "train it" if isinstance(persona, Avatar) else "clone it"
            raise Conflict(f"the {noun} has no active version yet: {action}, or name a version", code=not_ready)
        return session.get(ModelVersion, persona.active_version_id)
    query = select(ModelVersion).where(ModelVersion.tenant_id == persona.tenant_id,
                                       ModelVersion.target_id == persona.id)
    try:
        query = query.where(ModelVersion.id == uuid.UUID(wanted))
    except ValueError:
        query = query.where(ModelVersion.version == wanted)
    model = session.exec(query).first()
    if model is None:
        raise NotFound(f"the {noun} has no version {wanted!r}", code=f"{noun}.version_not_found")
    return model


def get_persona(session: Session, table: type[Persona], tenant_id: uuid.UUID, persona_id: uuid.UUID) -> Persona:
    """An avatar or voice of this tenant, or NotFound."""
    return get_owned(session, table, tenant_id, persona_id, _noun(table))


def list_personas(session: Session, table: type[Persona], tenant_id: uuid.UUID, limit: int,
                  offset: int) -> list[Persona]:
    """The tenant's avatars or voices, newest first."""
    query = (select(table).where(table.tenant_id == tenant_id)
             .order_by(col(table.created_at).desc()).offset(offset).limit(limit))
    return list(session.exec(query))


def update_persona(session: Session, table: type[Persona], tenant_id: uuid.UUID, persona_id: uuid.UUID,
                   data: PersonaUpdate) -> Persona:
    """Rename an avatar or voice."""
    persona = get_persona(session, table, tenant_id, persona_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(persona, field, value)
    persona.updated_at = utcnow()
    session.add(persona)
    return persona


def delete_persona(session: Session, table: type[Persona], tenant_id: uuid.UUID, persona_id: uuid.UUID) -> None:
    """Delete an avatar or voice that no model version belongs to."""
    persona = get_persona(session, table, tenant_id, persona_id)
    if session.exec(select(ModelVersion.id).where(ModelVersion.target_id == persona_id).limit(1)).first():
        raise Conflict(f"model versions belong to this {_noun(table)}; delete them first",
                       code=f"{_noun(table)}.has_models")
    session.delete(persona)
