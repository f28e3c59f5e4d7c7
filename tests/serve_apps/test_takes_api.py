"""Take upload through the API: accepted takes are stored and recorded; every rejection leaves nothing behind."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import pytest
from sqlmodel import select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import Role, Take
from tests.conftest import new_consent, upload_take
from tests.fixtures.media import write_picture


def stored_files(context) -> list:
    return [p for p in context.settings.models_root.rglob("*") if p.is_file()]


def leftovers(context) -> dict:
    uploads = context.settings.uploads_dir
    with session_scope(context.engine) as session:
        rows = session.exec(select(Take)).all()
    return {"uploads": sorted(p.name for p in uploads.iterdir()) if uploads.exists() else [],
            "store": stored_files(context), "rows": rows}


def test_green_screen_720p_take_is_accepted_and_stored(client, keys, context, media):
    consent = new_consent(client, keys.headers(Role.operator))
    response = upload_take(client, keys.headers(Role.operator), media.green_720(), consent_id=consent,
                           mic_profile="lav-1")
    assert response.status_code == 201, response.text
    take = response.json()
    assert (take["width"], take["height"], take["fps"]) == (960, 720, 25.0)
    assert 10.3 < take["duration_s"] < 10.5
    assert take["chroma_info"]["is_green"] and take["chroma_info"]["border_share"] > 0.5
    assert take["validation"]["verdict"] == "accepted"
    stored = context.settings.models_root / take["storage_key"]
    assert stored.read_bytes() == media.green_720().read_bytes()
    assert leftovers(context)["uploads"] == []
    listed = client.get("/api/v1/takes", headers=keys.headers(Role.viewer)).json()
    assert [t["id"] for t in listed] == [take["id"]]


def test_real_green_screen_take_needs_the_tenant_to_allow_512_px(client, keys, media):
    admin = keys.headers(Role.admin)
    consent = new_consent(client, admin)
    assert upload_take(client, admin, media.green_real_512(), consent_id=consent).status_code == 201
    assert client.patch("/api/v1/tenant", json={"min_video_short_side": None}, headers=admin).status_code == 200
    response = upload_take(client, admin, media.green_real_512(), consent_id=consent)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "take.video.resolution"
    assert error["details"] == {"rule": "short side in pixels", "measured": 512, "expected": ">= 720"}
    assert "512 px" in error["message"]


def test_conforming_audio_is_stored_unchanged(client, keys, context, media):
    consent = new_consent(client, keys.headers())
    response = upload_take(client, keys.headers(), media.speech_24k_mono(), kind="audio", consent_id=consent)
    assert response.status_code == 201, response.text
    take = response.json()
    assert (take["sample_rate"], take["channels"], take["validation"]["normalised"]) == (24000, 1, False)
    assert (context.settings.models_root / take["storage_key"]).read_bytes() == media.speech_24k_mono().read_bytes()


def test_stereo_44k_audio_is_normalised_when_asked(client, keys, context):
    from tests.fixtures.media import shared

    consent = new_consent(client, keys.headers())
    response = upload_take(client, keys.headers(), shared("speech_en_1.wav"), kind="audio", consent_id=consent,
                           normalize="true")
    assert response.status_code == 201, response.text
    take = response.json()
    assert take["validation"]["original"] == {"sample_rate": 44100, "channels": 2, "codec": "pcm_s16le"}
    assert (take["sample_rate"], take["channels"], take["validation"]["normalised"]) == (24000, 1, True)
    with av.open(str(context.settings.models_root / take["storage_key"])) as stored:
        stream = stored.streams.audio[0]
        assert (stream.sample_rate, stream.codec_context.channels) == (24000, 1)
        assert abs(float(stream.duration * stream.time_base) - 5.0155) < 0.05
    assert leftovers(context)["uploads"] == []


@pytest.mark.parametrize("name,container,codec", [("backdrop.png", "png", "png"),
                                                  ("backdrop.jpg", "jpeg", "mjpeg")])
def test_an_image_take_is_stored_with_its_size(db_client, db_keys, db_context, tmp_path, name, container, codec):
    headers = db_keys.headers(Role.operator)
    picture = write_picture(tmp_path / name, 90, 160)
    response = upload_take(db_client, headers, picture, kind="image", consent_id=new_consent(db_client, headers))
    assert response.status_code == 201, response.text
    take = response.json()
    assert (take["kind"], take["container"], take["codec"]) == ("image", container, codec)
    assert (take["width"], take["height"], take["duration_s"]) == (160, 90, 0.0)
    assert take["validation"] == {"verdict": "accepted", "format": container, "resolution": [160, 90],
                                  "codec": codec}
    assert (db_context.settings.models_root / take["storage_key"]).read_bytes() == picture.read_bytes()
    assert leftovers(db_context)["uploads"] == []
    avatar = db_client.post("/api/v1/avatars", json={"display_name": "x", "take_ids": [take["id"]]}, headers=headers)
    assert avatar.status_code == 422 and avatar.json()["error"]["code"] == "avatar.take_kind"


def _bad_pictures(folder: Path) -> list[tuple[str, Path, str, str]]:
    """(case, file, kind, expected code): broken, mislabelled, too small, too large, not PNG/JPEG, wrong kind."""
    good = write_picture(folder / "good.png", 90, 160)
    data = good.read_bytes()
    corrupt = folder / "corrupt.png"
    corrupt.write_bytes(data[:40] + bytes(60) + data[100:])
    text = folder / "notes.png"
    text.write_text("not a picture")
    webp = folder / "webp.png"
    webp.write_bytes(cv2.imencode(".webp", cv2.imread(str(good)))[1].tobytes())
    return [("corrupt png", corrupt, "image", "take.bad_image"),
            ("text named .png", text, "image", "take.bad_image"),
            ("webp named .png", webp, "image", "take.bad_image"),
            ("too small", write_picture(folder / "small.png", 48, 200), "image", "take.bad_image"),
            ("too tall", write_picture(folder / "tall.png", 5000, 64), "image", "take.bad_image"),
            ("too many pixels", write_picture(folder / "huge.jpg", 4100, 4100), "image", "take.bad_image"),
            ("video extension", good.rename(folder / "good.mp4"), "image", "upload.bad_extension"),
            ("picture as video", write_picture(folder / "frame.png", 90, 160), "video", "upload.bad_extension")]


def test_a_bad_image_take_gets_its_code_and_leaves_nothing_behind(client, keys, context, tmp_path):
    headers = keys.headers(Role.operator)
    consent = new_consent(client, headers)
    for case, picture, kind, code in _bad_pictures(tmp_path):
        response = upload_take(client, headers, picture, kind=kind, consent_id=consent)
        assert response.status_code == 422, (case, response.text)
        error = response.json()["error"]
        assert error["code"] == code and error["message"], (case, error)
        left = leftovers(context)
        assert left["uploads"] == [] and left["store"] == [] and left["rows"] == [], (case, left)
    small = upload_take(client, headers, write_picture(tmp_path / "s.png", 48, 200), kind="image", consent_id=consent)
    assert small.json()["error"]["details"] == {"rule": "width and height in pixels", "measured": [200, 48],
                                                "expected": "64 to 4096"}
    unconsented = upload_take(client, headers, write_picture(tmp_path / "ok.png", 90, 160), kind="image",
                              consent_id=None)
    assert unconsented.json()["error"]["code"] == "consent.required" and leftovers(context)["rows"] == []


@pytest.mark.parametrize("consent_case,code", [
    ("missing", "consent.required"),
    ("not_given", "consent.not_given"),
    ("expired", "consent.expired"),
    ("other_tenant", "consent.not_found"),
    ("not_a_uuid", "consent.not_found"),
])
def test_a_take_needs_a_valid_consent_of_the_same_tenant(client, keys, context, media, consent_case, code):
    headers = keys.headers(Role.operator)
    consent = {
        "missing": lambda: None,
        "not_given": lambda: new_consent(client, headers, consent_given=False),
        "expired": lambda: new_consent(client, headers,
                                       expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat()),
        "other_tenant": lambda: new_consent(client, keys.headers(Role.operator, "other")),
        "not_a_uuid": lambda: "consent-123",
    }[consent_case]()
    response = upload_take(client, headers, media.speech_24k_mono(), kind="audio", consent_id=consent)
    assert response.status_code in (404, 422)
    assert response.json()["error"]["code"] == code
    left = leftovers(context)
    assert left["uploads"] == [] and left["store"] == [] and left["rows"] == []


def _bad_cases(media_root):
    from tests.fixtures.corpus import MediaFactory

    return MediaFactory(media_root).bad_cases()


def test_the_bad_input_corpus_has_at_least_25_distinct_files(media):
    cases = media.bad_cases()
    assert len(cases) >= 25
    assert len({c.name for c in cases}) == len(cases)


def test_every_bad_input_gets_its_code_and_leaves_nothing_behind(client, keys, context, media):
    consent = new_consent(client, keys.headers(Role.operator))
    failures = []
    for case in media.bad_cases():
        fields = {"kind": case.kind, **case.fields}
        response = upload_take(client, keys.headers(Role.operator), case.file, consent_id=consent,
                               filename=case.filename, **fields)
        body = response.json()
        got = (response.status_code, body.get("error", {}).get("code"))
        if got != (case.status, case.code):
            failures.append(f"{case.name}: expected {(case.status, case.code)}, got {got}: {body}")
            continue
        assert body["error"]["message"], case.name
        left = leftovers(context)
        if left["uploads"] or left["store"] or left["rows"]:
            failures.append(f"{case.name}: left behind {left}")
    assert not failures, "\n".join(failures)


def test_malformed_multipart_is_rejected(client, keys, context):
    headers = {**keys.headers(Role.operator), "content-type": "multipart/form-data; boundary=XYZ"}
    response = client.post("/api/v1/takes", headers=headers, content=b"--XYZ\r\nnot a header line at all")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "upload.malformed"
    form = client.post("/api/v1/takes", headers=keys.headers(Role.operator), data={"kind": "video"})
    assert form.status_code == 400 and form.json()["error"]["code"] == "upload.malformed"
    no_upload = client.post("/api/v1/takes", headers=keys.headers(Role.operator), json={"kind": "video"})
    assert no_upload.status_code == 422 and no_upload.json()["error"]["code"] == "invalid_input"
    assert leftovers(context)["uploads"] == []


def test_deleting_a_take_removes_row_then_file(client, keys, context, media):
    consent = new_consent(client, keys.headers())
    take = upload_take(client, keys.headers(), media.speech_24k_mono(), kind="audio", consent_id=consent).json()
    assert client.delete(f"/api/v1/takes/{take['id']}", headers=keys.headers(Role.operator)).status_code == 403
    assert client.delete(f"/api/v1/takes/{take['id']}", headers=keys.headers(Role.admin)).status_code == 204
    assert client.get(f"/api/v1/takes/{take['id']}", headers=keys.headers()).status_code == 404
    assert stored_files(context) == []


def test_a_streamed_upload_without_length_is_cut_off_at_the_limit(client, keys, context, media):
    consent = new_consent(client, keys.headers())
    boundary = "lt-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nvideo\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"face_id\"\r\n\r\nanna\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"consent_id\"\r\n\r\n{consent}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    sent = {"bytes": 0}

    def body():
        yield head
        chunk = b"\0" * (1024 * 1024)
        for _ in range(64):
            sent["bytes"] += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**keys.headers(), "content-type": f"multipart/form-data; boundary={boundary}"}
    response = client.post("/api/v1/takes", headers=headers, content=body())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload.too_large"
    left = leftovers(context)
    assert left["uploads"] == [] and left["store"] == [] and left["rows"] == []
