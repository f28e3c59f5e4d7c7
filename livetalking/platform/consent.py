"""Consent records: a take is accepted only under a given, unexpired consent of the same tenant."""

import uuid

from sqlmodel import Session, select

from livetalking.errors import Conflict, InvalidInput
from livetalking.platform.tables import Consent, ConsentCreate, Take
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow


def record_consent(session: Session, tenant_id: uuid.UUID, data: ConsentCreate, created_by: uuid.UUID) -> Consent:
    """Store a consent record."""
    if data.expires_at is not None and data.expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone (for example 2027-01-01T00:00:00Z)",
                           code="consent.invalid_expiry")
    consent = Consent(**data.model_dump(), tenant_id=tenant_id, created_by=created_by)
    session.add(consent)
    session.flush()
    return consent


def get_consent(session: Session, tenant_id: uuid.UUID, consent_id: uuid.UUID) -> Consent:
    """A consent of this tenant, or NotFound."""
    return get_owned(session, Consent, tenant_id, consent_id, "consent")


def require_valid_consent(session: Session, tenant_id: uuid.UUID, consent_id: uuid.UUID | None) -> Consent:
    """The consent a take is uploaded under, checked: present, given and not expired."""
    if consent_id is None:
        raise InvalidInput("a take needs a consent_id: record the subject's consent first",
                           code="consent.required")
    consent = get_consent(session, tenant_id, consent_id)
    if not consent.consent_given:
        raise InvalidInput(f"the subject {consent.subject_name!r} did not give consent",
                           code="consent.not_given")
    if consent.expires_at is not None and consent.expires_at <= utcnow():
        raise InvalidInput(f"the consent expired at {consent.expires_at.isoformat()}", code="consent.expired")
    return consent


def delete_consent(session: Session, tenant_id: uuid.UUID, consent_id: uuid.UUID) -> None:
    """Delete a consent no take refers to."""
    consent = get_consent(session, tenant_id, consent_id)
    if session.exec(select(Take.id).where(Take.consent_id == consent_id).limit(1)).first() is not None:
        raise Conflict("takes were recorded under this consent; delete them first", code="consent.in_use")
    session.delete(consent)
