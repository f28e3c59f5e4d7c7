"""API keys and the caller's own tenant."""

import uuid

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from livetalking.platform.auth import create_key, revoke_key
from livetalking.platform.tables import NO_NUL, ApiKey, ApiKeyPublic, Role, Tenant, json_int
from livetalking.serve_apps.api.deps import Admin, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors

router = APIRouter(prefix="/api/v1", tags=["keys"], route_class=StrictJSONRoute)


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL, json_schema_extra={"pattern": r"^[^\x00]*\S"},
                      description="not only white space (keys.name_required)")
    role: Role


class KeyCreated(ApiKeyPublic):
    token: str = Field(description="the key itself; shown only in this response")


class WhoAmI(BaseModel):
    key_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_name: str
    role: Role


class TenantPublic(BaseModel):
    id: uuid.UUID
    name: str
    min_video_short_side: int | None


class TenantUpdate(BaseModel):
    min_video_short_side: json_int(ge=64, le=4320) | None = None


@router.get("/me", response_model=WhoAmI)
def whoami(principal: Viewer, session: SessionDep) -> WhoAmI:
    tenant = session.get(Tenant, principal.tenant_id)
    return WhoAmI(key_id=principal.key_id, tenant_id=tenant.id, tenant_name=tenant.name, role=principal.role)


@router.get("/tenant", response_model=TenantPublic)
def get_tenant(principal: Viewer, session: SessionDep) -> Tenant:
    return session.get(Tenant, principal.tenant_id)


@router.patch("/tenant", response_model=TenantPublic)
def update_tenant(body: TenantUpdate, principal: Admin, session: SessionDep) -> Tenant:
    """Tenant policy, such as the smallest video short side its takes may have."""
    tenant = session.get(Tenant, principal.tenant_id)
    tenant.min_video_short_side = body.min_video_short_side
    session.add(tenant)
    session.commit()
    return tenant


@router.get("/keys", response_model=list[ApiKeyPublic])
def list_keys(principal: Admin, session: SessionDep) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.tenant_id == principal.tenant_id).order_by(col(ApiKey.created_at))
    return list(session.exec(query))


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def new_key(body: KeyCreate, principal: Admin, session: SessionDep) -> KeyCreated:
    key, token = create_key(session, principal.tenant_id, body.role, body.name, created_by=principal.key_id)
    session.commit()
    return KeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), token=token)


@router.delete("/keys/{key_id:uuid}", response_model=ApiKeyPublic, responses=errors(409))
def revoke(key_id: uuid.UUID, principal: Admin, session: SessionDep) -> ApiKey:
    key = revoke_key(session, principal.tenant_id, key_id)
    session.commit()
    return key
