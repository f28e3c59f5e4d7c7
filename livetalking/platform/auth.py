"""API keys: creation (shown once), hashed storage, authentication and role checks."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from livetalking.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from livetalking.platform.tables import ApiKey, Role, Tenant
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow

KEY_SCHEME = "lt"
LAST_USED_RESOLUTION = timedelta(minutes=1)
_RANK = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: one key, one tenant, one role."""

    key_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role

    def require(self, role: Role) -> None:
        """Raise Forbidden unless this principal's role is at least `role`."""
        if _RANK[self.role] < _RANK[role]:
            raise Forbidden(f"this action needs the {role.value} role; the key has {self.role.value}")


def hash_secret(secret: str) -> str:
    """Keys are 256-bit random, so one sha256 is the right hash (no stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, tenant_id: uuid.UUID, role: Role, name: str,
               created_by: uuid.UUID | None = None) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plain token, which is never stored."""
    if not name.strip():
        raise InvalidInput("a key needs a name", code="keys.name_required")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(tenant_id=tenant_id, name=name, role=role, prefix=prefix,
                 secret_hash=hash_secret(secret), created_by=created_by)
    session.add(key)
    session.flush()
    return key, f"{KEY_SCHEME}_{prefix}_{secret}"


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal of a bearer token, or Unauthenticated."""
    if not token:
        raise Unauthenticated("an API key is required: Authorization: Bearer <key>")
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        raise Unauthenticated("malformed API key")
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        raise Unauthenticated("unknown API key")
    if key.revoked_at is not None:
        raise Unauthenticated("this API key was revoked", code="auth.revoked")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return Principal(key.id, key.tenant_id, key.role)


def revoke_key(session: Session, principal_tenant: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key of the same tenant."""
    key = get_owned(session, ApiKey, principal_tenant, key_id, "keys")
    if key.revoked_at is not None:
        raise Conflict(f"key {key_id} is already revoked", code="keys.already_revoked")
    key.revoked_at = utcnow()
    session.add(key)
    return key


def ensure_tenant(session: Session, name: str) -> Tenant:
    """The tenant with this name, created when missing."""
    tenant = session.exec(select(Tenant).where(Tenant.name == name)).first()
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def bootstrap_admin(session: Session, tenant_name: str) -> str | None:
    """On a first run (no keys at all) create the first tenant's admin key and return its token."""
    if session.exec(select(ApiKey.id).limit(1)).first() is not None:
        return None
    tenant = ensure_tenant(session, tenant_name)
    _, token = create_key(session, tenant.id, Role.admin, "bootstrap admin")
    return token
