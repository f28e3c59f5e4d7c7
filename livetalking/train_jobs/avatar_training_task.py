"""The avatars:train task: train the avatar's lip-sync model from its accepted prepared takes, resumably.

In a local thread each epoch's snapshot is kept in the artifact store and named in the task
checkpoint, so a retry after a crash continues from the last epoch; as a Ray task the training is
a Ray Train job whose run (named after the task, in the training storage) resumes the same way.
"""

import io
import uuid

from sqlmodel import select

from livetalking.errors import InvalidInput
from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.store import scoped_key
from livetalking.platform.tables import Avatar, ModelKind, PreparedTake, Task
from livetalking.platform.tasks import TaskContext
from livetalking.platform.tenancy import get_owned


def accepted_takes(ctx: TaskContext, avatar_id: uuid.UUID) -> list[PreparedTake]:
    """The avatar's accepted prepared takes, oldest first; InvalidInput when it has none."""
    with session_scope(ctx.engine) as session:
        get_owned(session, Avatar, ctx.tenant_id, avatar_id, "avatar")
        rows = list(session.exec(select(PreparedTake).where(PreparedTake.avatar_id == avatar_id,
                                                            PreparedTake.verdict == "accepted")))
    if not rows:
        raise InvalidInput("the avatar has no accepted prepared take to train or evaluate on; prepare it first",
                           code="avatar.not_prepared")
    return sorted(rows, key=lambda r: r.created_at)


def load_clips(ctx: TaskContext, rows: list[PreparedTake], model) -> list:
    """Each prepared take as an AvatarClip with the crop size and audio feature of `model` (a LipSyncConfig)."""
    from livetalking.platform.prepared_manifest import load_manifest
    from livetalking.train_jobs.clip_loader import load_clip

    return [load_clip(ctx.store, load_manifest(ctx.store, r.manifest_key, r.manifest_sha256), model.size, model.audio)
            for r in rows]


def train_avatar_model(ctx: TaskContext) -> dict:
    """Train (payload: avatar_id, preset, epochs, tune) and report the version and the gate's verdict."""
    # imported here: the training stack pulls in torch, and importing the handlers stays light
    import torch

    from livetalking.registry.publish import PublishTarget
    from livetalking.train_jobs.avatar_job import RayPlacement
    from livetalking.train_jobs.avatar_model import plan_for, train_avatar

    avatar_id = uuid.UUID(ctx.payload["avatar_id"])
    rows = accepted_takes(ctx, avatar_id)
    with session_scope(ctx.engine) as session:
        had_active = session.get(Avatar, avatar_id).active_version_id is not None
        requested_by = session.get(Task, ctx.task_id).created_by
    settings = ctx.settings
    placement = None
    if ctx.on_ray:
        storage = settings.train_storage or str((settings.data_root / "train_runs").resolve())
        placement = RayPlacement(settings.avatar_train_workers, storage, f"avatar-{ctx.task_id}",
                                 settings.train_max_failures)
    plan = plan_for(settings, ctx.payload.get("preset"), ctx.payload.get("epochs"), placement,
                    ctx.payload.get("tune") or 0)
    snapshot_key = scoped_key(ctx.tenant_id, "avatars", str(avatar_id), "training", str(ctx.task_id), "snapshot.pt")
    resume = None
    if "snapshot" in ctx.checkpoint and ctx.store.exists(snapshot_key):
        resume = torch.load(io.BytesIO(ctx.store.get_bytes(snapshot_key, ctx.checkpoint["snapshot"])),
                            weights_only=False)

    def save(snapshot: dict) -> None:
        buffer = io.BytesIO()
        torch.save(snapshot, buffer)
        stored = ctx.store.put_bytes(snapshot_key, buffer.getvalue())
        ctx.save({"snapshot": stored.sha256, "epoch": snapshot["epoch"]})

    set_state(ctx.engine, Avatar, avatar_id, "training")
    target = PublishTarget(ctx.engine, ctx.store, ctx.tenant_id, avatar_id, ModelKind.avatar, actor=requested_by)
    try:
        clips = load_clips(ctx, rows, plan.model)
        version = train_avatar(clips, plan=plan, target=target, settings=settings, progress=ctx.report,
                               resume=resume, save=save)
    except BaseException:
        set_state(ctx.engine, Avatar, avatar_id, "ready" if had_active else "prepared")
        raise
    ctx.store.delete(snapshot_key)
    return {"avatar_id": str(avatar_id), "model_id": str(version.model_id), "version": version.version,
            "backbone": version.backbone, "status": version.status, "metrics": version.metrics,
            "gate_failures": version.gate_failures}
