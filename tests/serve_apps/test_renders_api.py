"""Render requests over an image take: refused at once when the take is foreign or not an image; queued, the
render's background is the picture covering the frame."""

import uuid
from dataclasses import replace

import numpy as np

from livetalking.media.image_io import cover, read_image
from livetalking.platform.tables import Role
from livetalking.platform.tasks import TaskContext
from livetalking.train_jobs.render_task import _background
from tests.conftest import model_card, new_consent, register_model, upload_take
from tests.fixtures.media import write_picture


def test_a_render_background_must_be_an_image_take_of_the_tenant(client, keys, context, media, tmp_path):
    operator = keys.headers(Role.operator)
    consent = new_consent(client, operator)
    picture = write_picture(tmp_path / "studio.png", 90, 160)
    image = upload_take(client, operator, picture, kind="image", consent_id=consent).json()
    speech = upload_take(client, operator, media.speech_24k_mono(), kind="audio", consent_id=consent).json()
    other = keys.headers(Role.operator, "other")
    theirs = upload_take(client, other, picture, kind="image", consent_id=new_consent(client, other)).json()
    avatar = client.post("/api/v1/avatars", json={"display_name": "Anna"}, headers=operator).json()
    model = register_model(client, keys.headers(), model_card(target_id=avatar["id"])).json()
    base = {"avatar_id": avatar["id"], "version": model["id"], "audio_take_id": speech["id"]}
    for body, status, code in (
            ({"background_take_id": speech["id"]}, 422, "render.background_take_kind"),
            ({"background_take_id": theirs["id"]}, 404, "take.not_found"),
            ({"background_take_id": image["id"], "background": "#ffffff"}, 422, "invalid_input"),
            ({"background_take_id": image["id"], "background": "transparent"}, 422, "invalid_input")):
        response = client.post("/api/v1/renders", json={**base, **body}, headers=operator)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code
    queued = client.post("/api/v1/renders", json={**base, "background_take_id": image["id"]}, headers=operator)
    assert queued.status_code == 202, queued.text
    task = client.get(f"/api/v1/tasks/{queued.json()['id']}", headers=operator).json()
    assert task["payload"]["background_take_id"] == image["id"]
    ctx = TaskContext(task_id=uuid.UUID(task["id"]), tenant_id=keys.tenant_ids["own"], payload=task["payload"],
                      checkpoint={}, engine=context.engine, store=context.store, settings=context.settings)
    assert np.array_equal(_background(ctx, 512, 384), cover(read_image(picture), 512, 384))
    assert _background(replace(ctx, payload={"background": "#204080"}), 4, 6)[3, 5].tolist() == [32, 64, 128]
    assert _background(replace(ctx, payload={"background": "transparent"}), 4, 6) is None
