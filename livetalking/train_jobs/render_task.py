"""The renders:create task: an avatar version says an audio take (or a text in a voice) as a talking video.

MP4 (H.264 + AAC at the audio's own rate) over a colour or an image take (scaled to cover the frame),
or WebM (VP9 with alpha + Opus) when the background is transparent; the video keeps the prepared
take's frame rate and lasts as long as the audio. Frames are generated and encoded in batches, so
memory does not grow with the audio's length.
"""

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlmodel import select

from livetalking.errors import InvalidInput
from livetalking.media.audio_features import RATE, voice_activity
from livetalking.media.audio_io import decode_audio, resample
from livetalking.media.image_io import cover, read_image
from livetalking.platform.db import session_scope
from livetalking.platform.prepared_manifest import load_manifest
from livetalking.platform.renders import DEFAULT_BACKGROUND
from livetalking.platform.store import scoped_key
from livetalking.platform.tables import Avatar, ModelVersion, PreparedTake, Take, Voice
from livetalking.platform.tasks import TaskContext
from livetalking.platform.tenancy import get_owned
from livetalking.registry.service import stored_files

OUTPUT_RATE = 24000
T = TypeVar("T")


def _read_take(ctx: TaskContext, take_id: str, read: Callable[[Path], T]) -> T:
    """read(path) of the tenant's take, fetched from the store and checked against its sha256."""
    with session_scope(ctx.engine) as session:
        take = get_owned(session, Take, ctx.tenant_id, uuid.UUID(take_id), "take")
    with ctx.store.open_local(take.storage_key, sha256=take.sha256) as path:
        return read(path)


def _background(ctx: TaskContext, height: int, width: int) -> np.ndarray | None:
    """(H, W, 3) RGB: the image take scaled to cover the frame, or the colour; None when transparent."""
    if "background_take_id" in ctx.payload:
        return cover(_read_take(ctx, ctx.payload["background_take_id"], read_image), height, width)
    value = ctx.payload.get("background", DEFAULT_BACKGROUND)
    if value == "transparent":
        return None
    colour = [int(value[i:i + 2], 16) for i in (1, 3, 5)]
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, 3))


def _speech(ctx: TaskContext) -> tuple[np.ndarray, int]:
    """The audio to say at its own rate (mono float32), from the take or synthesised by the voice."""
    payload = ctx.payload
    if "audio_take_id" in payload:
        return _read_take(ctx, payload["audio_take_id"], lambda path: decode_audio(path, OUTPUT_RATE)), OUTPUT_RATE
    from livetalking.engines.loader import engine_for

    with session_scope(ctx.engine) as session:
        voice = get_owned(session, Voice, ctx.tenant_id, uuid.UUID(payload["voice_id"]), "voice")
        model = session.get(ModelVersion, voice.active_version_id)
    engine = engine_for(model, ctx.store, ctx.settings)
    return engine.synthesize(payload["text"]).astype(np.float32), engine.sample_rate


def render_video(ctx: TaskContext) -> dict:
    """Render (payload: a RenderRequest plus model_id) and store the video under renders/<task id>/."""
    from livetalking.engines.avatar_engine import AvatarRenderer, load_idle_loop
    from livetalking.engines.lipsync_runtime import OnnxGenerator
    from livetalking.media.talking_video import write_talking_video
    from livetalking.nets.lipsync import LipSyncConfig

    payload = ctx.payload
    with session_scope(ctx.engine) as session:
        get_owned(session, Avatar, ctx.tenant_id, uuid.UUID(payload["avatar_id"]), "avatar")
        model = session.get(ModelVersion, uuid.UUID(payload["model_id"]))
        prepared = session.exec(select(PreparedTake).where(PreparedTake.avatar_id == uuid.UUID(payload["avatar_id"]),
                                                           PreparedTake.verdict == "accepted")).all()
    if model is None or not prepared:
        raise InvalidInput("the avatar version or its prepared take is gone", code="avatar.not_trained")
    config = LipSyncConfig.from_dict(model.config["model"])
    ctx.report(0.05, "preparing the audio")
    audio, rate = _speech(ctx)
    audio_16k = resample(audio, rate, RATE)
    if audio.size == 0 or not voice_activity(audio_16k)[1]:
        raise InvalidInput("the audio holds no speech: there is nothing to say", code="render.silent_audio")
    latest = max(prepared, key=lambda r: r.created_at)
    ctx.report(0.1, "loading the avatar")
    loop = load_idle_loop(ctx.store, load_manifest(ctx.store, latest.manifest_key, latest.manifest_sha256),
                          config.size)
    onnx = stored_files(model)["onnx"]
    transparent = payload.get("background") == "transparent"
    name = "render.webm" if transparent else "render.mp4"
    with tempfile.TemporaryDirectory() as tmp, ctx.store.open_local(onnx["key"], sha256=onnx["sha256"]) as weights:
        renderer = AvatarRenderer(loop, OnnxGenerator(weights), config)
        total = renderer.frame_count(audio_16k)
        background = _background(ctx, *loop.foreground.shape[1:3])

        def frames():
            for k, frame in enumerate(renderer.frames(audio_16k, background)):
                if k % 25 == 0:
                    ctx.report(0.15 + 0.8 * k / max(total, 1), f"frame {k} of {total}")
                yield frame

        path = Path(tmp) / name
        count = write_talking_video(path, frames(), loop.fps, audio, rate, transparent)
        stored = ctx.store.put_file(scoped_key(ctx.tenant_id, "renders", str(ctx.task_id), name), path)
    return {"video": {"key": stored.key, "sha256": stored.sha256, "size": stored.size,
                      "media_type": "video/webm" if transparent else "video/mp4", "name": name},
            "frames": count, "fps": loop.fps, "duration_s": len(audio) / rate, "model_id": str(model.id),
            "version": model.version}
