"""Voices through the API: create with takes and transcripts, the voices:train task clones, preview speaks."""

import io
import time
import wave

import numpy as np
import pytest

from livetalking.media.audio_features import voice_activity
from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context
from livetalking.serve_apps.task_runner import TaskRunner, ThreadExecutor
from tests.conftest import Keys, client_for, make_settings, new_consent, upload_take
from tests.fixtures.media import librivox

SENTENCE = "Thank you for watching, and see you again next week."


def _wav(content: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(content)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768, w.getframerate()


def _wait(client, headers, voice_id: str, task_id: str) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        detail = client.get(f"/api/v1/voices/{voice_id}", headers=headers).json()
        if detail["task"]["id"] == task_id and detail["task"]["state"] in ("succeeded", "failed", "cancelled"):
            return detail
        time.sleep(0.5)
    raise AssertionError(f"voice {voice_id} still cloning: {detail}")


@pytest.fixture
def voice_api(tmp_path):
    settings = make_settings(tmp_path, voice_gate_min_similarity=0.5, voice_gate_max_wer=1.0, voice_train_steps=200,
                             voice_update_steps=100)
    context = build_context(settings)
    keys, client = Keys(context), client_for(context)
    runner = TaskRunner(settings, context.engine, ThreadExecutor(settings))
    context.on_task_queued = runner.wake
    runner.start()
    yield client, keys
    runner.stop()
    context.engine.dispose()


def test_a_voice_is_cloned_previewed_and_updated(voice_api):
    client, keys = voice_api
    operator, viewer = keys.headers(Role.operator), keys.headers(Role.viewer)
    consent = new_consent(client, operator)
    clips = librivox()
    takes = [upload_take(client, operator, path, kind="audio", consent_id=consent).json() for path, _ in clips]
    created = client.post("/api/v1/voices", headers=operator, json={
        "display_name": "Reader", "take_ids": [t["id"] for t in takes[:4]], "engine": "offline", "language": "en",
        "transcripts": {t["id"]: text for t, (_, text) in zip(takes[:4], clips[:4], strict=True)}})
    assert created.status_code == 201, created.text
    voice = created.json()
    early = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE}, headers=viewer)
    assert early.status_code == 409 and early.json()["error"]["code"] == "voice.not_ready"
    detail = _wait(client, viewer, voice["id"], voice["task_id"])
    assert detail["task"]["state"] == "succeeded", detail
    assert detail["state"] == "ready" and detail["engine"] == "offline" and detail["sample_rate"] == 16000
    assert detail["model_version"] == "v1" and detail["metrics"]["similarity_gain"] > 0.05

    spoken = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE}, headers=viewer)
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav"
    audio, rate = _wav(spoken.content)
    flags, _ = voice_activity(audio)
    assert rate == 16000 and len(audio) / rate > 1.5 and flags.mean() > 0.5
    streamed = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE, "stream": True},
                           headers=viewer)
    assert streamed.status_code == 200 and streamed.content[:4] == b"RIFF"
    assert 1.5 < (len(streamed.content) - 44) / (2 * rate) < 10
    named = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE, "version": "v1"},
                        headers=viewer)
    assert named.status_code == 200 and named.headers["x-voice-version"] == "v1"

    mandarin = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": "床前明月光"}, headers=viewer)
    assert mandarin.status_code == 422 and mandarin.json()["error"]["code"] == "tts.unsupported_script"
    missing = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE, "version": "v9"},
                          headers=viewer)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "voice.version_not_found"
    other = client.post(f"/api/v1/voices/{voice['id']}:preview", json={"text": SENTENCE},
                        headers=keys.headers(Role.admin, "other"))
    assert other.status_code == 404

    again = client.post(f"/api/v1/voices/{voice['id']}:clone", headers=operator,
                        json={"take_ids": [takes[4]["id"]], "transcripts": {takes[4]["id"]: clips[4][1]}})
    assert again.status_code == 200 and again.json()["type"] == "voices:train"
    updated = _wait(client, viewer, voice["id"], again.json()["id"])
    result = updated["task"]["result"]
    assert updated["task"]["state"] == "succeeded" and result["version"] == "v2", updated
    v2 = client.get(f"/api/v1/models/{result['model_id']}", headers=viewer).json()
    assert v2["parent_version_id"] == detail["active_version_id"] and len(updated["take_ids"]) == 5
    operator_key = client.get("/api/v1/me", headers=operator).json()
    assert v2["created_by"] == operator_key["key_id"]


@pytest.mark.parametrize("body,code", [({"engine": "xtts"}, "base_model.missing"),
                                       ({"engine": "wavenet"}, "voice.unknown_engine"),
                                       ({"language": "zh-cn"}, "voice.language_unsupported"),
                                       ({"transcripts": {"00000000-0000-0000-0000-000000000009": "hi"}},
                                        "voice.transcript_take")])
def test_bad_clone_requests_are_refused_and_leave_no_voice(client, keys, body, code):
    operator = keys.headers(Role.operator)
    consent = new_consent(client, operator)
    take = upload_take(client, operator, librivox()[0][0], kind="audio", consent_id=consent).json()
    response = client.post("/api/v1/voices", headers=operator,
                           json={"display_name": "Bad", "take_ids": [take["id"]], **body})
    assert response.status_code == (500 if code == "base_model.missing" else 422)
    assert response.json()["error"]["code"] == code
    assert client.get("/api/v1/voices", headers=operator).json() == []
