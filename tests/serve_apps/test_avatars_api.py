"""Avatar preparation through the API: create from a take, the task runs, the avatar shows its report and preview."""

import time

import av

from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context
from livetalking.serve_apps.task_runner import TaskRunner, ThreadExecutor
from tests.conftest import Keys, client_for, new_consent, upload_take


def _wait_for(client, path: str, headers: dict, states: tuple[str, ...], seconds: float, done=None) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        detail = client.get(path, headers=headers).json()
        if (done(detail) if done else detail["state"] in states) or time.monotonic() > deadline:
            return detail
        time.sleep(0.5)


def _render(client, headers: dict, body: dict) -> dict:
    created = client.post("/api/v1/renders", json=body, headers=headers)
    assert created.status_code == 202, created.text
    return _wait_for(client, f"/api/v1/renders/{created.json()['id']}", headers, (), 120,
                     lambda r: r["task"]["state"] in ("succeeded", "failed"))


def _renders(client, keys, operator, media, consent, avatar_id, video_take, version) -> tuple[dict, dict]:
    """Bad render requests refused at once; a render of real speech and one of a silent take, run to the end."""
    speech = upload_take(client, operator, media.speech_24k_mono(), kind="audio", consent_id=consent).json()
    quiet = upload_take(client, operator, media.silent_wav(), kind="audio", consent_id=consent).json()
    base = {"avatar_id": avatar_id, "version": version}
    for body, status, code in (
            ({"audio_take_id": speech["id"]}, 409, "avatar.not_trained") if version is None else
            ({**base, "version": "v99", "audio_take_id": speech["id"]}, 404, "avatar.version_not_found"),
            ({**base, "audio_take_id": video_take}, 422, "render.audio_take_kind"),
            ({**base, "text": "hello", "voice_id": "00000000-0000-0000-0000-000000000001"}, 404, "voice.not_found"),
            ({**base, "audio_take_id": speech["id"], "text": "hello"}, 422, None),
            ({**base, "audio_take_id": speech["id"], "background": "red"}, 422, None)):
        response = client.post("/api/v1/renders", json={"avatar_id": avatar_id, **body}, headers=operator)
        assert response.status_code == status, (body, response.text)
        assert code is None or response.json()["error"]["code"] == code
    other = client.post("/api/v1/renders", json={**base, "audio_take_id": speech["id"]},
                        headers=keys.headers(Role.operator, "other"))
    assert other.status_code == 404
    return (_render(client, operator, {**base, "audio_take_id": speech["id"], "background": "#204080"}),
            _render(client, operator, {**base, "audio_take_id": quiet["id"]}))


def test_an_avatar_is_prepared_from_an_uploaded_take_trained_and_rendered(prep_settings, media):
    context = build_context(prep_settings)
    keys, client = Keys(context), client_for(context)
    operator = keys.headers(Role.operator)
    consent = new_consent(client, operator)
    take = upload_take(client, operator, media.green_real_512_speech(), consent_id=consent).json()
    runner = TaskRunner(prep_settings, context.engine, ThreadExecutor(prep_settings))
    context.on_task_queued = runner.wake
    runner.start()
    try:
        created = client.post("/api/v1/avatars", json={"display_name": "Child", "take_ids": [take["id"]]},
                              headers=operator)
        assert created.status_code == 201 and created.json()["task_id"]
        avatar_id = created.json()["id"]
        assert client.get(f"/api/v1/avatars/{avatar_id}/preview.png", headers=operator).status_code == 404
        early = client.post(f"/api/v1/avatars/{avatar_id}:train", json={}, headers=operator)
        assert early.status_code == 409 and early.json()["error"]["code"] == "avatar.not_prepared"
        detail = _wait_for(client, f"/api/v1/avatars/{avatar_id}", keys.headers(Role.viewer),
                           ("prepared", "rejected", "failed"), 120)
        assert detail["state"] == "prepared", detail
        for body, code in (({"preset": "huge"}, 422), ({"epochs": 0}, 422), ({"tune": 1}, 422), ({"tune": 65}, 422)):
            assert client.post(f"/api/v1/avatars/{avatar_id}:train", json=body, headers=operator).status_code == code
        denied = client.post(f"/api/v1/avatars/{avatar_id}:train", json={}, headers=keys.headers(Role.viewer))
        other = client.post(f"/api/v1/avatars/{avatar_id}:train", json={}, headers=keys.headers(Role.admin, "other"))
        assert denied.status_code == 403 and other.status_code == 404
        training = client.post(f"/api/v1/avatars/{avatar_id}:train", json={"epochs": 1}, headers=operator)
        assert training.status_code == 200 and training.json()["type"] == "avatars:train"
        trained = _wait_for(client, f"/api/v1/avatars/{avatar_id}", keys.headers(Role.viewer),
                            ("ready", "review", "prepared"), 300)
        task = client.get(f"/api/v1/tasks/{training.json()['id']}", headers=operator).json()
        renders = _renders(client, keys, operator, media, consent, avatar_id, take["id"], task["result"]["version"])
    finally:
        runner.stop()
    rendered, silent = renders
    assert rendered["task"]["state"] == "succeeded", rendered["task"]
    assert silent["task"]["state"] == "failed" and silent["task"]["error_code"] == "render.silent_audio"
    assert silent["video_url"] is None
    video = client.get(rendered["video_url"], headers=keys.headers(Role.viewer))
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert client.get(rendered["video_url"], headers=keys.headers(Role.viewer, "other")).status_code == 404
    path = prep_settings.data_root / "render.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        assert {s.codec_context.name for s in container.streams} == {"h264", "aac"}
        assert float(container.streams.video[0].average_rate) == 25.0
        assert abs(container.duration / 1e6 - rendered["result"]["duration_s"]) < 0.1
    assert task["state"] == "succeeded", (task["error_code"], task["error"])
    result = task["result"]
    assert result["status"] == ("candidate" if result["gate_failures"] else "active")
    assert trained["state"] == ("review" if result["gate_failures"] else "ready")
    assert result["metrics"]["held_out_frames"] > 30 and "replay_mouth_open_corr" in result["metrics"]
    models = client.get("/api/v1/models", params={"kind": "avatar"}, headers=operator).json()
    (model,) = models["items"]
    assert model["id"] == result["model_id"] and set(model["formats"]) == {"pt", "torchscript", "onnx"}
    assert model["input_shape"] == [-1, 6, 160, 160] and model["target_id"] == avatar_id
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
    assert response.status_code == 409 and response.json()["error"]["code"] == "avatar.no_takes"
    voice_take = client.post("/api/v1/avatars", json={"display_name": "x", "take_ids": [
        "00000000-0000-0000-0000-000000000001"]}, headers=keys.headers())
    assert voice_take.status_code == 404
