"""Every route x role x own/other tenant, and an audit event for every mutating request whatever its outcome."""

import json
import uuid

import pytest
from sqlmodel import select

from livetalking.platform.auth import create_key
from livetalking.platform.consent import record_consent
from livetalking.platform.db import session_scope
from livetalking.platform.personas import create_persona
from livetalking.platform.tables import (Avatar, AuditEvent, ConsentCreate, PersonaCreate, Role, Take, TakeKind,
                                         UploadCreate, Voice)
from livetalking.platform.tasks import create_task
from livetalking.platform.upload_sessions import open_upload
from livetalking.registry.card import ArtifactFormat
from livetalking.registry.service import parse_card, register_model
from tests.conftest import client_for, model_card
from tests.fixtures.media import shared

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}

# (method, path template) -> the least role that may call it. A new route must be added here.
REQUIRED_ROLE = {
    ("GET", "/api/v1/me"): Role.viewer,
    ("GET", "/api/v1/tenant"): Role.viewer,
    ("PATCH", "/api/v1/tenant"): Role.admin,
    ("GET", "/api/v1/keys"): Role.admin,
    ("POST", "/api/v1/keys"): Role.admin,
    ("DELETE", "/api/v1/keys/{key_id}"): Role.admin,
    ("POST", "/api/v1/consents"): Role.operator,
    ("GET", "/api/v1/consents"): Role.viewer,
    ("GET", "/api/v1/consents/{consent_id}"): Role.viewer,
    ("DELETE", "/api/v1/consents/{consent_id}"): Role.admin,
    ("POST", "/api/v1/takes"): Role.operator,
    ("GET", "/api/v1/takes"): Role.viewer,
    ("GET", "/api/v1/takes/{take_id}"): Role.viewer,
    ("DELETE", "/api/v1/takes/{take_id}"): Role.admin,
    ("POST", "/api/v1/models/register"): Role.operator,
    ("GET", "/api/v1/models"): Role.viewer,
    ("GET", "/api/v1/models/{model_id}"): Role.viewer,
    ("DELETE", "/api/v1/models/{model_id}"): Role.admin,
    ("POST", "/api/v1/models/{model_id}:promote"): Role.operator,
    ("POST", "/api/v1/models/{model_id}:rollback"): Role.operator,
    ("POST", "/api/v1/models/{model_id}:evaluate"): Role.operator,
    ("POST", "/api/v1/avatars"): Role.operator,
    ("GET", "/api/v1/avatars"): Role.viewer,
    ("GET", "/api/v1/avatars/{persona_id}"): Role.viewer,
    ("PATCH", "/api/v1/avatars/{persona_id}"): Role.operator,
    ("DELETE", "/api/v1/avatars/{persona_id}"): Role.admin,
    ("POST", "/api/v1/voices"): Role.operator,
    ("GET", "/api/v1/voices"): Role.viewer,
    ("GET", "/api/v1/voices/{persona_id}"): Role.viewer,
    ("PATCH", "/api/v1/voices/{persona_id}"): Role.operator,
    ("DELETE", "/api/v1/voices/{persona_id}"): Role.admin,
    ("POST", "/api/v1/tasks"): Role.operator,
    ("GET", "/api/v1/tasks"): Role.viewer,
    ("GET", "/api/v1/tasks/{task_id}"): Role.viewer,
    ("POST", "/api/v1/tasks/{task_id}:cancel"): Role.operator,
    ("POST", "/api/v1/tasks/{task_id}:retry"): Role.operator,
    ("GET", "/api/v1/audit"): Role.admin,
    ("POST", "/api/v1/uploads"): Role.operator,
    ("GET", "/api/v1/uploads/{upload_id}"): Role.viewer,
    ("PUT", "/api/v1/uploads/{upload_id}/chunks/{index}"): Role.operator,
    ("DELETE", "/api/v1/uploads/{upload_id}"): Role.operator,
    ("POST", "/api/v1/avatars/{avatar_id}:prepare"): Role.operator,
    ("GET", "/api/v1/avatars/{avatar_id}/preview.png"): Role.viewer,
    ("POST", "/api/v1/voices/{voice_id}:clone"): Role.operator,
    ("POST", "/api/v1/voices/{voice_id}:preview"): Role.viewer,
    ("POST", "/api/v1/avatars/{avatar_id}:train"): Role.operator,
    ("POST", "/api/v1/renders"): Role.operator,
    ("GET", "/api/v1/renders/{render_id}"): Role.viewer,
    ("GET", "/api/v1/renders/{render_id}/video"): Role.viewer,
}
# An answer that is right for a caller allowed to call the route on its own fresh resources.
EXPECTED_REFUSALS = {("POST", "/api/v1/models/{model_id}:evaluate"): "model.evaluate_unsupported",
                     ("GET", "/api/v1/avatars/{avatar_id}/preview.png"): "avatar.not_prepared",
                     ("POST", "/api/v1/voices/{voice_id}:clone"): "voice.no_takes",
                     ("POST", "/api/v1/voices/{voice_id}:preview"): "voice.not_ready",
                     ("POST", "/api/v1/avatars/{avatar_id}:train"): "avatar.not_prepared",
                     ("POST", "/api/v1/renders"): "avatar.not_trained",
                     ("GET", "/api/v1/renders/{render_id}/video"): "render.not_ready"}
RANK = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}


def api_routes(app) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
            for method in operations}


def make_resources(context, tenant_id: uuid.UUID) -> dict[str, str]:
    """One of each thing a path can name, owned by `tenant_id`."""
    with session_scope(context.engine) as session:
        consent = record_consent(session, tenant_id, ConsentCreate(
            subject_name="S", consent_given=True, scope="all", licence="L"), created_by=None)
        take = Take(tenant_id=tenant_id, consent_id=consent.id, face_id="s", kind=TakeKind.audio,
                    original_filename="a.wav", container="wav", codec="pcm_s16le", duration_s=2.0,
                    sha256="0" * 64, size_bytes=1, storage_key=f"tenants/{tenant_id}/takes/s/x/source.wav")
        session.add(take)
        avatar = create_persona(session, Avatar, tenant_id, PersonaCreate(display_name="A"))
        avatar.take_ids = [str(take.id)]
        voice = create_persona(session, Voice, tenant_id, PersonaCreate(display_name="V"))
        task = create_task(session, tenant_id, "models:verify", {}, known_types={"models:verify"})
        render = create_task(session, tenant_id, "renders:create", {"avatar_id": str(avatar.id)},
                             known_types={"renders:create"})
        key, _ = create_key(session, tenant_id, Role.viewer, "victim")
        upload = open_upload(session, context.settings, tenant_id, None,
                             UploadCreate(filename="a.wav", size_bytes=10))
        ids = {"consent_id": consent.id, "take_id": take.id, "avatar": avatar.id, "avatar_id": avatar.id,
               "voice": voice.id, "voice_id": voice.id,
               "task_id": task.id, "render_id": render.id, "key_id": key.id, "upload_id": upload.id}
    source = context.settings.data_root / f"weights-{uuid.uuid4().hex}.pt"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"weights")
    model = register_model(context.engine, context.store, tenant_id, None,
                           parse_card(model_card(version=uuid.uuid4().hex[:8], target_id=str(ids["avatar"]))),
                           {ArtifactFormat.pt: source})
    ids["model_id"] = model.id
    return {k: str(v) for k, v in ids.items()}


def request_for(method: str, path: str, ids: dict[str, str], kind: str):
    """The concrete URL and body for a route, naming the given resources."""
    persona_id = ids["voice"] if path.startswith("/api/v1/voices") else ids["avatar"]
    url = path.format(persona_id=persona_id, index=0, **{k: v for k, v in ids.items() if k.endswith("_id")})
    kwargs: dict = {}
    if (method, path) == ("POST", "/api/v1/takes"):
        handle = open(shared("speech_zh_poem.wav"), "rb")
        kwargs = {"data": {"kind": "audio", "face_id": "s", "consent_id": ids["consent_id"]},
                  "files": {"file": ("poem.wav", handle)}}
    elif (method, path) == ("POST", "/api/v1/models/register"):
        card = model_card(version=uuid.uuid4().hex[:8])
        kwargs = {"data": {"card": json.dumps(card)}, "files": {"pt": ("m.pt", b"w")}}
    elif (method, path) == ("POST", "/api/v1/renders"):
        kwargs = {"json": {"avatar_id": ids["avatar"], "audio_take_id": ids["take_id"]}}
    elif method == "PUT":
        kwargs = {"content": b"0123456789"}
    elif method in ("POST", "PATCH"):
        kwargs = {"json": {
            "/api/v1/tenant": {"min_video_short_side": 512},
            "/api/v1/keys": {"name": "k", "role": "viewer"},
            "/api/v1/consents": {"subject_name": "S", "consent_given": True, "scope": "all", "licence": "L"},
            "/api/v1/avatars": {"display_name": "A2"},
            "/api/v1/voices": {"display_name": "V2"},
            "/api/v1/voices/{voice_id}:preview": {"text": "hello there"},
            "/api/v1/tasks": {"type": "models:verify", "payload": {}},
            "/api/v1/uploads": {"filename": "take.mp4", "size_bytes": 1000},
        }.get(path, {"display_name": "renamed"} if method == "PATCH" else {})}
    return url, kwargs


def test_the_role_table_covers_every_route(client):
    assert api_routes(client.app) - PUBLIC == set(REQUIRED_ROLE)


@pytest.mark.parametrize("route", sorted(REQUIRED_ROLE), ids=lambda r: f"{r[0]} {r[1]}")
def test_authorization_matrix(context, keys, route):
    client = client_for(context)
    method, path = route
    needed = REQUIRED_ROLE[route]
    names_a_resource = "{" in path
    url, kwargs = request_for(method, path, make_resources(context, keys.tenant_ids["own"]), "own")
    assert client.request(method, url, **kwargs).status_code == 401
    assert client.request(method, url, headers={"Authorization": "Bearer lt_nope_nope"},
                          **request_for(method, path, make_resources(context, keys.tenant_ids["own"]), "own")[1]
                          ).status_code == 401
    for role in Role:
        for tenant_case in ("own", "other"):
            if tenant_case == "other" and not names_a_resource:
                continue
            owner = keys.tenant_ids["own" if tenant_case == "own" else "other"]
            url, kwargs = request_for(method, path, make_resources(context, owner), tenant_case)
            response = client.request(method, url, headers=keys.headers(role, "own"), **kwargs)
            label = f"{method} {url} as own {role.value} on {tenant_case} tenant's resource"
            if RANK[role] < RANK[needed]:
                assert response.status_code == 403, label
                assert response.json()["error"]["code"] == "auth.forbidden", label
            elif tenant_case == "other":
                assert response.status_code == 404, f"{label}: {response.text}"
            elif route in EXPECTED_REFUSALS:
                assert response.json()["error"]["code"] == EXPECTED_REFUSALS[route], label
            else:
                assert response.status_code < 400 or response.status_code == 409, f"{label}: {response.text}"
                if method == "GET" and not names_a_resource:
                    body = response.text
                    assert str(keys.tenant_ids["other"]) not in body, label


def test_other_tenants_rows_never_appear_in_listings(client, context, keys):
    theirs = make_resources(context, keys.tenant_ids["other"])
    for path in ("/api/v1/consents", "/api/v1/takes", "/api/v1/models", "/api/v1/avatars", "/api/v1/voices",
                 "/api/v1/tasks", "/api/v1/keys", "/api/v1/audit"):
        body = client.get(path, headers=keys.headers(Role.admin)).text
        for resource_id in theirs.values():
            assert resource_id not in body, path


def test_every_mutating_route_writes_an_audit_event(context, keys):
    client = client_for(context)
    mutating = [r for r in sorted(REQUIRED_ROLE) if r[0] != "GET"]
    for method, path in mutating:
        viewer_outcome = None if REQUIRED_ROLE[(method, path)] is Role.viewer else "denied"
        for headers, outcome in ((keys.headers(Role.admin), None), (keys.headers(Role.viewer), viewer_outcome),
                                 ({}, "denied")):
            url, kwargs = request_for(method, path, make_resources(context, keys.tenant_ids["own"]), "own")
            request_id = uuid.uuid4().hex
            response = client.request(method, url, headers={**headers, "X-Request-ID": request_id}, **kwargs)
            assert response.headers["x-request-id"] == request_id
            with session_scope(context.engine) as session:
                events = session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id)).all()
            assert len(events) == 1, f"{method} {path}"
            event = events[0]
            assert event.action == f"{method} {path}" and event.status_code == response.status_code
            assert event.outcome == (outcome or ("ok" if response.status_code < 400 else "rejected"))
            if headers:
                assert event.tenant_id == keys.tenant_ids["own"] and event.actor != "anonymous"
            else:
                assert event.actor == "anonymous" and event.tenant_id is None


def test_revoked_keys_stop_working_and_keys_are_stored_hashed(client, context, keys):
    created = client.post("/api/v1/keys", json={"name": "temp", "role": "operator"},
                          headers=keys.headers(Role.admin)).json()
    token = created["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "operator"
    with session_scope(context.engine) as session:
        from livetalking.platform.tables import ApiKey

        stored = session.get(ApiKey, uuid.UUID(created["id"]))
        assert token.split("_")[-1] not in stored.secret_hash and len(stored.secret_hash) == 64
    assert client.delete(f"/api/v1/keys/{created['id']}", headers=keys.headers(Role.admin)).status_code == 200
    denied = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "auth.revoked"
    listed = client.get("/api/v1/keys", headers=keys.headers(Role.admin)).json()
    assert all("token" not in k and "secret_hash" not in k for k in listed)
