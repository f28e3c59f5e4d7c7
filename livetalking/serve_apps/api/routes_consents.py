"""Consent records of the people a tenant films."""

import uuid

from fastapi import APIRouter, Response, status
from sqlmodel import col, select

from livetalking.platform.consent import delete_consent, get_consent, record_consent
from livetalking.platform.tables import Consent, ConsentCreate, ConsentPublic
from livetalking.serve_apps.api.deps import Admin, Operator, SessionDep, Viewer
from livetalking.serve_apps.api.json_body import StrictJSONRoute
from livetalking.serve_apps.api.contract import errors
from livetalking.serve_apps.api.pagination import Limit, Offset

router = APIRouter(prefix="/api/v1/consents", tags=["consents"], route_class=StrictJSONRoute)


@router.post("", response_model=ConsentPublic, status_code=status.HTTP_201_CREATED)
def create(body: ConsentCreate, principal: Operator, session: SessionDep) -> Consent:
    consent = record_consent(session, principal.tenant_id, body, principal.key_id)
    session.commit()
    return consent


@router.get("", response_model=list[ConsentPublic])
def list_all(principal: Viewer, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[Consent]:
    query = (select(Consent).where(Consent.tenant_id == principal.tenant_id)
             .order_by(col(Consent.created_at).desc()).offset(offset).limit(limit))
    return list(session.exec(query))


@router.get("/{consent_id:uuid}", response_model=ConsentPublic)
def show(consent_id: uuid.UUID, principal: Viewer, session: SessionDep) -> Consent:
    return get_consent(session, principal.tenant_id, consent_id)


@router.delete("/{consent_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
def delete(consent_id: uuid.UUID, principal: Admin, session: SessionDep) -> Response:
    delete_consent(session, principal.tenant_id, consent_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
