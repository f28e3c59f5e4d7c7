"""Avatar preparation through the API: create from a take, the task runs, the avatar shows its report and preview."""

import time

from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context
from livetalking.serve_apps.task_runner import TaskRunner, ThreadExecutor
from tests.conftest import Keys, client_for, new_consent, upload_take


def test_an_avatar_is_prepared_from_an_uploaded_take(prep_settings, media):
    context = build_context(prep_settings)
    keys, client = Keys(context), client_for(context)
    operator = keys.headers(Role.operator)
    consent = new_consent(client, operator)
    take = upload_take(client, operator, media.green_real_512(), consent_id=consent).json()
    runner = TaskRunner(prep_settings, context.engine, ThreadExecutor(prep_settings))
    context.on_task_queued = runner.wake
    runner.start()
    try:
        created = client.post("/api/v1/avatars", json={"display_name": "Child", "take_ids": [take["id"]]},
                              headers=operator)
        assert created.status_code == 201 and created.json()["task_id"]
        avatar_id = created.json()["id"]
        assert client.get(f"/api/v1/avatars/{avatar_id}/preview.png", headers=operator).status_code == 404
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            detail = client.get(f"/api/v1/avatars/{avatar_id}", headers=keys.headers(Role.viewer)).json()
            if detail["state"] in ("prepared", "rejected", "failed"):
                break
            time.sleep(0.5)
    finally:
        runner.stop()
    assert detail["state"] == "prepared", detail
    assert detail["task"]["state"] == "succeeded" and detail["task"]["progress"] == 1.0
    (prepared,) = detail["prepared_takes"]
    assert prepared["take_id"] == take["id"] and prepared["verdict"] == "accepted"
    assert prepared["quality"]["measurements"]["face_present_share"] == 1.0
    png = client.get(detail["preview_url"], headers=keys.headers(Role.viewer))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    other = client.get(f"/api/v1/avatars/{avatar_id}/preview.png", headers=keys.headers(Role.admin, "other"))
    assert other.status_code == 404
    in_use = client.delete(f"/api/v1/takes/{take['id']}", headers=keys.headers(Role.admin))
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "take.in_use"
    again = client.post(f"/api/v1/avatars/{avatar_id}:prepare", headers=operator)
    assert again.status_code == 200 and again.json()["type"] == "avatars:preprocess"
    context.engine.dispose()


def test_preparing_an_avatar_without_takes_is_refused(client, keys):
    avatar = client.post("/api/v1/avatars", json={"display_name": "Empty"}, headers=keys.headers()).json()
    assert avatar["task_id"] is None and avatar["state"] == "created"
    response = client.post(f"/api/v1/avatars/{avatar['id']}:prepare", headers=keys.headers(Role.operator))
    assert response.status_code == 422 and response.json()["error"]["code"] == "avatar.no_takes"
    voice_take = client.post("/api/v1/avatars", json={"display_name": "x", "take_ids": [
        "00000000-0000-0000-0000-000000000001"]}, headers=keys.headers())
    assert voice_take.status_code == 404
