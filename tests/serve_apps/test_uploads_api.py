"""Resumable chunked uploads: out-of-order and resent chunks, resume after a gap, and no leftovers on rejection."""

import hashlib
from datetime import timedelta

from sqlmodel import select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import Role, Take, Upload, UploadChunk
from livetalking.platform.timeutil import utcnow
from livetalking.platform.upload_sessions import purge_expired
from tests.conftest import new_consent


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def open_upload(client, headers, name: str, data: bytes, sha: bool = True) -> dict:
    body = {"filename": name, "size_bytes": len(data)}
    if sha:
        body["sha256"] = hashlib.sha256(data).hexdigest()
    response = client.post("/api/v1/uploads", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def put(client, headers, upload_id, index, data):
    return client.put(f"/api/v1/uploads/{upload_id}/chunks/{index}", content=data, headers=headers)


def nothing_left(context) -> bool:
    with session_scope(context.engine) as session:
        rows = session.exec(select(Upload)).all() + session.exec(select(UploadChunk)).all()
    stored = [p for p in context.settings.models_root.rglob("*") if p.is_file() and "/uploads/" in p.as_posix()]
    scratch = list(context.settings.uploads_dir.iterdir()) if context.settings.uploads_dir.exists() else []
    return rows == [] and stored == [] and scratch == []


def test_a_take_sent_in_chunks_out_of_order_with_a_resend_is_accepted(client, keys, context, media):
    headers = keys.headers(Role.operator)
    data = media.green_720().read_bytes()
    upload = open_upload(client, headers, "take.mp4", data)
    parts = chunks_of(data, upload["chunk_bytes"])
    assert upload["chunk_count"] == len(parts) > 2 and upload["missing"] == list(range(len(parts)))
    for index in reversed(range(len(parts))):
        assert put(client, headers, upload["id"], index, parts[index]).status_code == 200
    assert put(client, headers, upload["id"], 1, parts[1]).json()["missing"] == []
    consent = new_consent(client, headers)
    response = client.post("/api/v1/takes", headers=headers, json={
        "upload_id": upload["id"], "kind": "video", "face_id": "anna", "consent_id": consent})
    assert response.status_code == 201, response.text
    take = response.json()
    assert take["sha256"] == hashlib.sha256(data).hexdigest() and take["original_filename"] == "take.mp4"
    assert (context.settings.models_root / take["storage_key"]).read_bytes() == data
    assert nothing_left(context)
    assert client.get(f"/api/v1/uploads/{upload['id']}", headers=headers).status_code == 404


def test_an_interrupted_upload_resumes_from_what_arrived(client, keys, context, media):
    headers = keys.headers(Role.operator)
    data = media.speech_24k_mono().read_bytes()
    upload = open_upload(client, headers, "voice.wav", data)
    parts = chunks_of(data, upload["chunk_bytes"])
    for index in (0, 2):
        put(client, headers, upload["id"], index, parts[index])
    consent = new_consent(client, headers)
    early = client.post("/api/v1/takes", headers=headers, json={
        "upload_id": upload["id"], "kind": "audio", "face_id": "anna", "consent_id": consent})
    assert early.status_code == 422 and early.json()["error"]["code"] == "upload.incomplete"
    status = client.get(f"/api/v1/uploads/{upload['id']}", headers=keys.headers(Role.viewer)).json()
    assert status["received"] == [0, 2] and 1 in status["missing"]
    for index in status["missing"]:
        put(client, headers, upload["id"], index, parts[index])
    done = client.post("/api/v1/takes", headers=headers, json={
        "upload_id": upload["id"], "kind": "audio", "face_id": "anna", "consent_id": consent})
    assert done.status_code == 201, done.text
    assert done.json()["sample_rate"] == 24000
    assert nothing_left(context)


def test_bad_chunks_and_bad_sessions_get_their_codes(client, keys, context):
    headers = keys.headers(Role.operator)
    data = bytes(range(256)) * 1000
    upload = open_upload(client, headers, "take.mp4", data)
    size = upload["chunk_bytes"]
    short = put(client, headers, upload["id"], 0, data[:100])
    assert short.status_code == 422 and short.json()["error"]["code"] == "upload.chunk_size"
    big = put(client, headers, upload["id"], 0, data[: size + 1])
    assert big.status_code == 422 and big.json()["error"]["code"] == "upload.chunk_size"
    outside = put(client, headers, upload["id"], upload["chunk_count"], b"x")
    assert outside.json()["error"]["code"] == "upload.chunk_index"
    other = put(client, keys.headers(Role.operator, "other"), upload["id"], 0, data[:size])
    assert other.status_code == 404 and other.json()["error"]["code"] == "upload.not_found"
    too_large = client.post("/api/v1/uploads", json={"filename": "x.mp4", "size_bytes": 10**12}, headers=headers)
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "upload.too_large"
    traversal = client.post("/api/v1/uploads", json={"filename": "../x.mp4", "size_bytes": 10}, headers=headers)
    assert traversal.json()["error"]["code"] == "upload.bad_filename"
    assert client.delete(f"/api/v1/uploads/{upload['id']}", headers=headers).status_code == 204
    assert nothing_left(context)


def test_a_wrong_checksum_or_a_rejected_take_leaves_nothing(client, keys, context, media):
    headers = keys.headers(Role.operator)
    consent = new_consent(client, headers)
    data = media.green_real_512().read_bytes()
    upload = client.post("/api/v1/uploads", json={"filename": "t.mp4", "size_bytes": len(data),
                                                  "sha256": "0" * 64}, headers=headers).json()
    for index, part in enumerate(chunks_of(data, upload["chunk_bytes"])):
        put(client, headers, upload["id"], index, part)
    mismatch = client.post("/api/v1/takes", headers=headers, json={
        "upload_id": upload["id"], "kind": "video", "face_id": "anna", "consent_id": consent})
    assert mismatch.json()["error"]["code"] == "upload.sha256_mismatch"
    client.delete(f"/api/v1/uploads/{upload['id']}", headers=headers)
    client.patch("/api/v1/tenant", json={"min_video_short_side": None}, headers=keys.headers(Role.admin))
    upload = open_upload(client, headers, "t.mp4", data)
    for index, part in enumerate(chunks_of(data, upload["chunk_bytes"])):
        put(client, headers, upload["id"], index, part)
    rejected = client.post("/api/v1/takes", headers=headers, json={
        "upload_id": upload["id"], "kind": "video", "face_id": "anna", "consent_id": consent})
    assert rejected.status_code == 422 and rejected.json()["error"]["code"] == "take.video.resolution"
    assert nothing_left(context)
    with session_scope(context.engine) as session:
        assert session.exec(select(Take)).all() == []


def test_expired_uploads_are_purged(client, keys, context):
    headers = keys.headers(Role.operator)
    upload = open_upload(client, headers, "x.wav", b"abc" * 10)
    put(client, headers, upload["id"], 0, b"abc" * 10)
    assert purge_expired(context.engine, context.store) == 0
    with session_scope(context.engine) as session:
        row = session.get(Upload, __import__("uuid").UUID(upload["id"]))
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"/api/v1/uploads/{upload['id']}", headers=headers).status_code == 404
    assert purge_expired(context.engine, context.store) == 1
    assert nothing_left(context)
