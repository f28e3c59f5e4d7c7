"""The avatars:preprocess task: prepare each take of an avatar, resumably, and record the results."""

import uuid
from collections.abc import Iterator

from sqlmodel import select

from livetalking.errors import InvalidInput, LiveTalkingError
from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.tables import Avatar, PreparedTake, Take, TakeKind
from livetalking.platform.tasks import TaskContext
from livetalking.platform.tenancy import get_owned
from livetalking.train_jobs.avatar_prepare import Chunk, prepare_take, run_chunk, run_in_process


def run_on_ray(calls: list[tuple[Chunk, tuple]]) -> Iterator[tuple[Chunk, dict]]:
    """Run chunks as parallel Ray tasks (one CPU each) and hand them back as they finish."""
    import ray

    remote = ray.remote(num_cpus=1, max_retries=1)(run_chunk)
    pending = {remote.options(name=f"prepare-chunk-{chunk.index}").remote(*args): chunk for chunk, args in calls}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            yield pending.pop(ref), ray.get(ref)


def _chunk_runner():
    import ray

    return run_on_ray if ray.is_initialized() else run_in_process


def preprocess_avatar(ctx: TaskContext) -> dict:
    """Prepare every take of the avatar (payload: avatar_id); resume from the chunks the checkpoint lists."""
    avatar_id = uuid.UUID(ctx.payload["avatar_id"])
    with session_scope(ctx.engine) as session:
        avatar = get_owned(session, Avatar, ctx.tenant_id, avatar_id, "avatar")
        takes = [get_owned(session, Take, ctx.tenant_id, uuid.UUID(t), "take") for t in avatar.take_ids]
    if not takes:
        raise InvalidInput("the avatar has no takes to prepare", code="avatar.no_takes")
    for take in takes:
        if take.kind is not TakeKind.video:
            raise InvalidInput(f"take {take.id} is {take.kind.value}; avatars are prepared from video takes",
                               code="avatar.take_kind")
    set_state(ctx.engine, Avatar, avatar_id, "preparing")
    progress = {k: dict(v) for k, v in ctx.checkpoint.get("takes", {}).items()}
    try:
        for number, take in enumerate(takes):
            state = progress.setdefault(str(take.id), {"chunks": {}})
            if "manifest" in state:
                continue
            done = {int(k): v for k, v in state["chunks"].items()}

            def on_chunk(done: dict[int, dict], total: int, number=number, state=state) -> None:
                state["chunks"] = {str(k): v for k, v in done.items()}
                ctx.save({"takes": progress})
                ctx.report((number + len(done) / total) / len(takes) * 0.95,
                           f"take {number + 1} of {len(takes)}: {len(done)} of {total} chunks")

            ctx.report(number / len(takes) * 0.95, f"take {number + 1} of {len(takes)}: starting")
            manifest = prepare_take(ctx.settings, ctx.store, str(ctx.tenant_id), str(avatar_id), str(take.id),
                                    take.storage_key, take.sha256, done, on_chunk, _chunk_runner())
            _record(ctx, avatar_id, take.id, manifest)
            state.update(manifest=manifest["manifest"], verdict=manifest["quality"]["verdict"])
            ctx.save({"takes": progress})
    except LiveTalkingError:
        set_state(ctx.engine, Avatar, avatar_id, "failed")
        raise
    accepted = any(p.get("verdict") == "accepted" for p in progress.values())
    set_state(ctx.engine, Avatar, avatar_id, "prepared" if accepted else "rejected")
    return {"avatar_id": str(avatar_id),
            "takes": {t: {"verdict": p["verdict"], "manifest": p["manifest"]} for t, p in progress.items()}}


def _record(ctx: TaskContext, avatar_id: uuid.UUID, take_id: uuid.UUID, manifest: dict) -> None:
    with session_scope(ctx.engine) as session:
        for old in session.exec(select(PreparedTake).where(PreparedTake.avatar_id == avatar_id,
                                                           PreparedTake.take_id == take_id)):
            session.delete(old)
        session.flush()
        preview = manifest["files"].get("preview.png", {}).get("key")
        session.add(PreparedTake(tenant_id=ctx.tenant_id, avatar_id=avatar_id, take_id=take_id, task_id=ctx.task_id,
                                 verdict=manifest["quality"]["verdict"], quality=manifest["quality"],
                                 manifest_key=manifest["manifest"]["key"],
                                 manifest_sha256=manifest["manifest"]["sha256"], preview_key=preview))
