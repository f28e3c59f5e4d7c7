"""The registry API on SQLite and PostgreSQL: register, list, show, promote, roll back, delete."""

import hashlib
import uuid

import pytest
from sqlmodel import select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import LiveSession, Role
from tests.conftest import model_card, register_model


@pytest.fixture
def avatar(db_client, db_keys) -> str:
    response = db_client.post("/api/v1/avatars", json={"display_name": "Anna"}, headers=db_keys.headers())
    assert response.status_code == 201
    return response.json()["id"]


def test_register_stores_artifacts_and_records_a_candidate(db_client, db_keys, db_context, avatar):
    weights = b"\x80\x02fake torch pickle" * 100
    response = register_model(db_client, db_keys.headers(Role.operator),
                              model_card(target_id=avatar), {"pt": weights, "onnx": b"onnx-bytes"})
    assert response.status_code == 201, response.text
    model = response.json()
    assert model["status"] == "candidate" and model["formats"] == ["onnx", "pt"]
    assert model["artifacts"]["pt"]["sha256"] == hashlib.sha256(weights).hexdigest()
    key = model["artifacts"]["pt"]["key"]
    assert key.startswith(f"tenants/{db_keys.tenant_ids['own']}/models/anna-lipsync/1/")
    assert db_context.store.get_bytes(key, sha256=model["artifacts"]["pt"]["sha256"]) == weights
    shown = db_client.get(f"/api/v1/models/{model['id']}", headers=db_keys.headers(Role.viewer)).json()
    assert shown == model


def test_register_from_stored_artifacts_by_json(db_client, db_keys, db_context):
    from livetalking.platform.store import scoped_key

    key = scoped_key(db_keys.tenant_ids["own"], "models", "trained", "7", "model.pt")
    stored = db_context.store.put_bytes(key, b"trained by a job")
    card = model_card(name="trained", version="7", artifacts={"pt": {"key": key, "sha256": stored.sha256}})
    response = db_client.post("/api/v1/models/register", json=card, headers=db_keys.headers())
    assert response.status_code == 201, response.text
    assert response.json()["artifacts"]["pt"] == {"key": key, "sha256": stored.sha256, "size": stored.size}
    bad = model_card(name="trained", version="8", artifacts={"pt": {"key": key, "sha256": "0" * 64}})
    response = db_client.post("/api/v1/models/register", json=bad, headers=db_keys.headers())
    assert response.status_code == 500 and response.json()["error"]["code"] == "store.integrity"
    other = model_card(name="x", version="1", artifacts={"pt": {"key": key.replace(
        str(db_keys.tenant_ids["own"]), str(db_keys.tenant_ids["other"])), "sha256": stored.sha256}})
    response = db_client.post("/api/v1/models/register", json=other, headers=db_keys.headers())
    assert response.json()["error"]["code"] == "model.artifact_key"


def test_files_a_config_names_are_checked_verified_and_deleted_with_the_version(db_client, db_keys, db_context):
    from livetalking.platform.store import scoped_key

    own, theirs = db_keys.tenant_ids["own"], db_keys.tenant_ids["other"]
    weights = db_context.store.put_bytes(scoped_key(own, "models", "v", "1", "model.pt"), b"weights")
    extra = db_context.store.put_bytes(scoped_key(own, "models", "v", "1", "speaker.npy"), b"d-vector")
    foreign = db_context.store.put_bytes(scoped_key(theirs, "models", "v", "1", "speaker.npy"), b"theirs")

    def card(version, files):
        return model_card(name="v", version=version, artifacts={"pt": {"key": weights.key, "sha256": weights.sha256}},
                          config={"files": files})

    for files, code in (({"speaker.npy": {"key": foreign.key, "sha256": foreign.sha256}}, "model.artifact_key"),
                        ({"speaker.npy": {"key": extra.key, "sha256": "0" * 64}}, "store.integrity"),
                        ({"speaker.npy": "somewhere"}, "model.invalid_card")):
        response = db_client.post("/api/v1/models/register", json=card("0", files), headers=db_keys.headers())
        assert response.json()["error"]["code"] == code, files
    response = db_client.post("/api/v1/models/register", headers=db_keys.headers(),
                              json=card("1", {"speaker.npy": {"key": extra.key, "sha256": extra.sha256}}))
    assert response.status_code == 201, response.text
    model = response.json()
    from livetalking.platform.db import session_scope
    from livetalking.platform.tables import ModelVersion
    from livetalking.registry.service import verify_artifacts

    with session_scope(db_context.engine) as session:
        row = session.get(ModelVersion, uuid.UUID(model["id"]))
    assert verify_artifacts(db_context.store, row) == {"pt": "ok", "speaker.npy": "ok"}
    assert db_client.delete(f"/api/v1/models/{model['id']}", headers=db_keys.headers()).status_code == 204
    assert not db_context.store.exists(extra.key) and not db_context.store.exists(weights.key)
    assert db_context.store.exists(foreign.key)


@pytest.mark.parametrize("card_change,code", [
    ({"kind": "puppet"}, "model.invalid_card"),
    ({"input_shape": []}, "model.invalid_card"),
    ({"input_shape": [1, 0, 96]}, "model.invalid_card"),
    ({"name": "../escape"}, "model.invalid_card"),
    ({"metrics": {"psnr": "high"}}, "model.invalid_card"),
    ({"unexpected": 1}, "model.invalid_card"),
    ({"kind": "voice", "sample_rate": None}, "model.invalid_card"),
    ({"target_id": "00000000-0000-0000-0000-000000000001"}, "avatar.not_found"),
])
def test_invalid_cards_are_rejected_and_nothing_is_stored(db_client, db_keys, db_context, card_change, code):
    card = {**model_card(), **card_change}
    response = register_model(db_client, db_keys.headers(), card)
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"] == code
    assert [p for p in db_context.settings.models_root.rglob("*") if p.is_file()] == []
    assert db_client.get("/api/v1/models", headers=db_keys.headers()).json()["total"] == 0


def test_duplicate_version_and_sha_mismatch_leave_nothing(db_client, db_keys, db_context):
    assert register_model(db_client, db_keys.headers(), model_card()).status_code == 201
    files_before = sorted(p for p in db_context.settings.models_root.rglob("*") if p.is_file())
    duplicate = register_model(db_client, db_keys.headers(), model_card(), {"pt": b"other bytes"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "model.exists"
    mismatch = register_model(db_client, db_keys.headers(),
                              model_card(version="2", artifacts={"pt": {"sha256": "a" * 64}}))
    assert mismatch.json()["error"]["code"] == "model.sha256_mismatch"
    none = db_client.post("/api/v1/models/register", json=model_card(version="3"), headers=db_keys.headers())
    assert none.json()["error"]["code"] == "model.artifact_missing"
    assert sorted(p for p in db_context.settings.models_root.rglob("*") if p.is_file()) == files_before
    assert db_client.get("/api/v1/models", headers=db_keys.headers()).json()["total"] == 1


def test_listing_filters_and_pages(db_client, db_keys):
    headers = db_keys.headers()
    for i in range(7):
        register_model(db_client, headers, model_card(name="anna-lipsync", version=str(i)))
    for i in range(3):
        register_model(db_client, headers, model_card(name="anna-voice", version=str(i), kind="voice"))
    register_model(db_client, db_keys.headers(tenant="other"), model_card(name="theirs"))
    page = db_client.get("/api/v1/models", params={"limit": 4}, headers=headers).json()
    assert page["total"] == 10 and len(page["items"]) == 4
    rest = db_client.get("/api/v1/models", params={"limit": 4, "offset": 8}, headers=headers).json()
    assert len(rest["items"]) == 2
    all_ids = {m["id"] for o in (0, 4, 8) for m in db_client.get(
        "/api/v1/models", params={"limit": 4, "offset": o}, headers=headers).json()["items"]}
    assert len(all_ids) == 10
    voices = db_client.get("/api/v1/models", params={"kind": "voice"}, headers=headers).json()
    assert voices["total"] == 3 and {m["kind"] for m in voices["items"]} == {"voice"}
    assert db_client.get("/api/v1/models", params={"backbone": "piper-vc", "status": "candidate"},
                         headers=headers).json()["total"] == 3
    assert db_client.get("/api/v1/models", params={"status": "active"}, headers=headers).json()["total"] == 0
    own_tenant = str(db_keys.tenant_ids["own"])
    assert db_client.get("/api/v1/models", params={"tenant": own_tenant}, headers=headers).json()["total"] == 10
    cross = db_client.get("/api/v1/models", params={"tenant": str(db_keys.tenant_ids["other"])}, headers=headers)
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "auth.cross_tenant"
    assert db_client.get("/api/v1/models", params={"limit": 501}, headers=headers).status_code == 422


def test_promote_and_rollback_move_the_active_version(db_client, db_keys, avatar):
    headers = db_keys.headers(Role.operator)
    v1 = register_model(db_client, headers, model_card(version="1", target_id=avatar)).json()
    v2 = register_model(db_client, headers, model_card(version="2", target_id=avatar,
                                                        metrics={"lse_d": 6.5})).json()
    assert db_client.post(f"/api/v1/models/{v1['id']}:promote", headers=headers).json()["status"] == "active"
    promoted = db_client.post(f"/api/v1/models/{v2['id']}:promote", headers=headers).json()
    assert promoted["status"] == "active" and promoted["replaces_version_id"] == v1["id"]
    assert db_client.get(f"/api/v1/models/{v1['id']}", headers=headers).json()["status"] == "archived"
    persona = db_client.get(f"/api/v1/avatars/{avatar}", headers=headers).json()
    assert persona["active_version_id"] == v2["id"] and persona["model_version"] == "2"
    assert persona["metrics"] == {"lse_d": 6.5} and persona["model_path"] == v2["artifacts"]["pt"]["key"]
    again = db_client.post(f"/api/v1/models/{v2['id']}:promote", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "model.not_promotable"
    back = db_client.post(f"/api/v1/models/{v2['id']}:rollback", headers=headers).json()
    assert back["id"] == v1["id"] and back["status"] == "active"
    assert db_client.get(f"/api/v1/models/{v2['id']}", headers=headers).json()["status"] == "archived"
    assert db_client.get(f"/api/v1/avatars/{avatar}", headers=headers).json()["active_version_id"] == v1["id"]
    no_previous = db_client.post(f"/api/v1/models/{v1['id']}:rollback", headers=headers)
    assert no_previous.status_code == 409 and no_previous.json()["error"]["code"] == "model.no_previous"
    not_active = db_client.post(f"/api/v1/models/{v2['id']}:rollback", headers=headers)
    assert not_active.json()["error"]["code"] == "model.not_active"


def test_evaluate_queues_a_task_for_trained_avatar_versions_only(db_client, db_keys, avatar):
    operator = db_keys.headers(Role.operator)
    trained = register_model(db_client, operator, model_card(version="1", target_id=avatar,
                                                             config={"model": {"size": 96}})).json()
    from_card = register_model(db_client, operator, model_card(version="2", target_id=avatar)).json()
    voice = register_model(db_client, operator, model_card(name="anna-voice", kind="voice")).json()
    theirs = register_model(db_client, db_keys.headers(Role.operator, "other"), model_card()).json()
    for model_id, status, code in ((uuid.uuid4(), 404, "model.not_found"), (theirs["id"], 404, "model.not_found"),
                                   (voice["id"], 422, "model.evaluate_unsupported"),
                                   (from_card["id"], 422, "model.evaluate_unsupported")):
        response = db_client.post(f"/api/v1/models/{model_id}:evaluate", headers=operator)
        assert response.status_code == status and response.json()["error"]["code"] == code, response.text
    denied = db_client.post(f"/api/v1/models/{trained['id']}:evaluate", headers=db_keys.headers(Role.viewer))
    assert denied.status_code == 403
    queued = db_client.post(f"/api/v1/models/{trained['id']}:evaluate", headers=operator)
    assert queued.status_code == 202, queued.text
    task = queued.json()
    assert task["type"] == "models:evaluate" and task["state"] == "queued"
    assert task["payload"] == {"model_id": trained["id"]}
    assert db_client.get("/api/v1/tasks", params={"type": "models:evaluate"}, headers=operator).json()[0]["id"] == \
        task["id"]


def test_promote_needs_a_target(db_client, db_keys):
    model = register_model(db_client, db_keys.headers(), model_card()).json()
    response = db_client.post(f"/api/v1/models/{model['id']}:promote", headers=db_keys.headers())
    assert response.status_code == 409 and response.json()["error"]["code"] == "model.no_target"


def test_delete_is_refused_while_active_or_live_and_removes_artifacts_after_the_row(db_client, db_keys,
                                                                                    db_context, avatar):
    admin = db_keys.headers(Role.admin)
    v1 = register_model(db_client, admin, model_card(version="1", target_id=avatar)).json()
    v2 = register_model(db_client, admin, model_card(version="2", target_id=avatar)).json()
    db_client.post(f"/api/v1/models/{v1['id']}:promote", headers=admin)
    active = db_client.delete(f"/api/v1/models/{v1['id']}", headers=admin)
    assert active.status_code == 409 and active.json()["error"]["code"] == "model.active"
    with session_scope(db_context.engine) as session:
        session.add(LiveSession(tenant_id=db_keys.tenant_ids["own"], avatar_version_id=uuid.UUID(v2["id"])))
    live = db_client.delete(f"/api/v1/models/{v2['id']}", headers=admin)
    assert live.status_code == 409 and live.json()["error"]["code"] == "model.in_use"
    with session_scope(db_context.engine) as session:
        for row in session.exec(select(LiveSession)).all():
            row.state = "closed"
    key = v2["artifacts"]["pt"]["key"]
    assert db_context.store.exists(key)
    assert db_client.delete(f"/api/v1/models/{v2['id']}", headers=admin).status_code == 204
    assert not db_context.store.exists(key)
    assert db_client.get(f"/api/v1/models/{v2['id']}", headers=admin).status_code == 404
    assert db_client.get(f"/api/v1/models/{v1['id']}", headers=admin).status_code == 200


def test_avatars_and_voices_crud(db_client, db_keys, avatar):
    headers = db_keys.headers()
    renamed = db_client.patch(f"/api/v1/avatars/{avatar}", json={"display_name": "Anna B."}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Anna B."
    voice = db_client.post("/api/v1/voices", json={"display_name": "Anna voice"}, headers=headers).json()
    assert [v["id"] for v in db_client.get("/api/v1/voices", headers=headers).json()] == [voice["id"]]
    register_model(db_client, headers, model_card(kind="voice", name="v", target_id=voice["id"]))
    blocked = db_client.delete(f"/api/v1/voices/{voice['id']}", headers=headers)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "voice.has_models"
    assert db_client.delete(f"/api/v1/avatars/{avatar}", headers=headers).status_code == 204
    assert db_client.get(f"/api/v1/avatars/{avatar}", headers=headers).status_code == 404
    wrong_take = db_client.post("/api/v1/avatars", json={"display_name": "x", "take_ids": [
        "00000000-0000-0000-0000-000000000009"]}, headers=headers)
    assert wrong_take.status_code == 404 and wrong_take.json()["error"]["code"] == "take.not_found"
