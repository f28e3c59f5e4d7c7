"""The voices:train task: clone the voice from its takes with clone_speaker, resumable only as a whole."""

import uuid
from contextlib import ExitStack

from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.tables import ModelKind, Take, Task, Voice
from livetalking.platform.tasks import TaskContext
from livetalking.platform.tenancy import get_owned


def train_voice(ctx: TaskContext) -> dict:
    """Clone (payload: voice_id, engine, language, transcripts) and report the version and the gate's verdict."""
    # imported here: the cloning stack pulls in torch, which the API process that lists handlers never needs
    from livetalking.registry.publish import PublishTarget
    from livetalking.train_jobs.voice_clone import clone_speaker
    from livetalking.train_jobs.voice_takes import ReferenceTake

    voice_id = uuid.UUID(ctx.payload["voice_id"])
    with session_scope(ctx.engine) as session:
        voice = get_owned(session, Voice, ctx.tenant_id, voice_id, "voice")
        takes = [get_owned(session, Take, ctx.tenant_id, uuid.UUID(t), "take") for t in voice.take_ids]
        had_active = voice.active_version_id is not None
        requested_by = session.get(Task, ctx.task_id).created_by
    transcripts = ctx.payload.get("transcripts", {})
    set_state(ctx.engine, Voice, voice_id, "training")
    target = PublishTarget(ctx.engine, ctx.store, ctx.tenant_id, voice_id, ModelKind.voice, actor=requested_by)
    try:
        with ExitStack() as stack:
            references = [ReferenceTake(stack.enter_context(ctx.store.open_local(t.storage_key, sha256=t.sha256)),
                                        transcripts.get(str(t.id))) for t in takes]
            version = clone_speaker(references, engine=ctx.payload.get("engine", "offline"),
                                    language=ctx.payload.get("language", "en"), target=target,
                                    settings=ctx.settings, progress=ctx.report,
                                    fine_tune=bool(ctx.payload.get("fine_tune", False)))
    except BaseException:
        set_state(ctx.engine, Voice, voice_id, "ready" if had_active else "failed")
        raise
    return {"voice_id": str(voice_id), "model_id": str(version.model_id), "version": version.version,
            "backbone": version.backbone, "status": version.status, "metrics": version.metrics,
            "gate_failures": version.gate_failures}
