"""Consents: a 201 means the consent is stored, and readable at once."""

import json
import uuid

import anyio
from sqlmodel import select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import Consent, Role
from tests.conftest import client_for, new_consent

BODY = {"subject_name": "Anna Example", "consent_given": True, "scope": "avatar and voice", "licence": "contract"}


def test_the_consent_is_committed_before_the_201_leaves(context, keys):
    """Regression: the session used to commit after the response was sent, so a client that read right after
    the 201 (schemathesis' stateful phase) got 404, and a failed commit still answered 201."""
    app = client_for(context).app
    body = json.dumps(BODY).encode()
    headers = [(b"content-type", b"application/json"),
               (b"authorization", keys.headers(Role.operator)["Authorization"].encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/consents", "raw_path": b"/api/v1/consents", "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    stored_when_answered: dict[str, int] = {}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            with session_scope(context.engine) as session:
                stored_when_answered[str(message["status"])] = len(session.exec(select(Consent)).all())

    anyio.run(app, scope, receive, send)
    assert stored_when_answered == {"201": 1}


def test_consent_errors_have_stable_codes(client, keys):
    headers = keys.headers(Role.admin)
    consent_id = new_consent(client, headers)
    missing = client.get(f"/api/v1/consents/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "consent.not_found"
    not_an_id = client.get("/api/v1/consents/not-a-uuid", headers=headers)
    assert not_an_id.status_code == 404 and not_an_id.json()["error"]["code"] == "not_found"
    wrong_method = client.put(f"/api/v1/consents/{consent_id}", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "DELETE, GET"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    naive = client.post("/api/v1/consents", json={**BODY, "expires_at": 0}, headers=headers)
    assert naive.status_code == 422 and naive.json()["error"]["code"] == "invalid_input"
    nul = client.post("/api/v1/consents", json={**BODY, "subject_name": "Anna\u0000"}, headers=headers)
    assert nul.status_code == 422 and "body.subject_name" in nul.json()["error"]["message"]
    surrogate = client.post("/api/v1/consents", content=b'{"subject_name": "\\ud800"}',
                            headers={**headers, "content-type": "application/json"})
    assert surrogate.status_code == 422 and surrogate.json()["error"]["code"] == "invalid_input"
    assert "JSON" in surrogate.json()["error"]["message"]
