"""The function that runs each task type of platform/task_types: (TaskContext) -> result dict."""

import uuid
from collections.abc import Callable, Mapping

from livetalking.errors import IntegrityFailure
from livetalking.platform.db import session_scope
from livetalking.platform.tasks import TaskContext
from livetalking.platform.task_types import (EVALUATE_MODEL, PREPARE_AVATAR, RENDER, TRAIN_AVATAR, TRAIN_VOICE,
                                             VERIFY_MODELS)
from livetalking.registry.service import get_model, verify_artifacts
from livetalking.train_jobs.avatar_evaluation_task import evaluate_model
from livetalking.train_jobs.avatar_task import preprocess_avatar
from livetalking.train_jobs.avatar_training_task import train_avatar_model
from livetalking.train_jobs.render_task import render_video
from livetalking.train_jobs.voice_task import train_voice

Handler = Callable[[TaskContext], dict]


def verify_models(ctx: TaskContext) -> dict:
    """models:verify: re-hash the artifacts of the listed model versions, resuming after the last one checked."""
    model_ids = [uuid.UUID(m) for m in ctx.payload.get("model_ids", [])]
    results: dict[str, dict] = dict(ctx.checkpoint.get("results", {}))
    for index, model_id in enumerate(model_ids):
        if str(model_id) in results:
            continue
        ctx.report(index / max(len(model_ids), 1), f"verifying model {index + 1} of {len(model_ids)}")
        with session_scope(ctx.engine) as session:
            model = get_model(session, ctx.tenant_id, model_id)
        results[str(model_id)] = verify_artifacts(ctx.store, model)
        ctx.save({"results": results})
    bad = {m: r for m, r in results.items() if any(v != "ok" for v in r.values())}
    if bad:
        raise IntegrityFailure(f"{len(bad)} of {len(results)} model versions failed verification: {bad}")
    return {"verified": results}


DEFAULT_HANDLERS: Mapping[str, Handler] = {VERIFY_MODELS: verify_models, PREPARE_AVATAR: preprocess_avatar,
                                           TRAIN_AVATAR: train_avatar_model, TRAIN_VOICE: train_voice,
                                           RENDER: render_video, EVALUATE_MODEL: evaluate_model}
