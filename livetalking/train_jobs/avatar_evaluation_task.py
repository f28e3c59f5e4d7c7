"""The models:evaluate task: judge a registered avatar version again, and roll a failing active version back.

The version's model.pt (with its SyncNet expert) is evaluated on the held-out tails of its avatar's accepted
prepared takes, split as training splits them, with the gate of the current settings. The new metrics replace
the evaluation's measures in the version's metrics (its training and export figures stay), so the registry
shows the latest verdict; the task result holds them too, with the values they replaced. An active version
that fails is replaced by the newest earlier version of its model whose recorded metrics pass the same gate
(that version is not evaluated again), and an audit event records the rollback; when there is none it stays
active and the avatar goes to `review`. """

import uuid

from livetalking.platform.audit import record_task_event
from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.tables import Avatar, ModelStatus, ModelVersion, Task
from livetalking.platform.tasks import TaskContext
from livetalking.registry.evaluation import EVALUATE_TASK_TYPE, check_evaluable
from livetalking.registry.service import get_model, record_metrics, rollback_to_passing
from livetalking.train_jobs.avatar_training_task import accepted_takes, load_clips


def _version(ctx: TaskContext) -> tuple[ModelVersion, uuid.UUID | None]:
    """The version the payload names (this tenant's, evaluable) and the key that queued the task."""
    with session_scope(ctx.engine) as session:
        model = get_model(session, ctx.tenant_id, uuid.UUID(ctx.payload["model_id"]))
        actor = session.get(Task, ctx.task_id).created_by
    check_evaluable(model)
    return model, actor


def _roll_back(ctx: TaskContext, model: ModelVersion, actor: uuid.UUID | None, passes) -> ModelVersion | None:
    """Replace the failing active version by the newest earlier one that passes, or flag its avatar for review."""
    fallback = rollback_to_passing(ctx.engine, ctx.tenant_id, model.id, passes)
    if fallback is None:
        set_state(ctx.engine, Avatar, model.target_id, "review")
        return None
    record_task_event(ctx.engine, ctx.tenant_id, ctx.task_id, actor, f"{EVALUATE_TASK_TYPE} rollback",
                      f"{model.id},{fallback.id}")
    return fallback


def evaluate_model(ctx: TaskContext) -> dict:
    """Evaluate a version again (payload: model_id); report the verdict and what happened to the active version."""
    # imported here: the evaluation pulls in torch, and importing the handlers stays light
    from livetalking.train_jobs.avatar_eval import GateThresholds, passes
    from livetalking.train_jobs.avatar_model import reevaluate, stored_weights

    model, actor = _version(ctx)
    ctx.report(0.05, "loading the version and its avatar's prepared takes")
    rows = accepted_takes(ctx, model.target_id)
    stored = stored_weights(ctx.store, model)
    clips = load_clips(ctx, rows, stored.config)
    ctx.report(0.3, "evaluating on the held-out frames")
    metrics, failures = reevaluate(clips, stored, ctx.settings, lambda message: ctx.report(0.5, message))
    ctx.report(0.9, "recording the verdict")
    replaced = record_metrics(ctx.engine, ctx.tenant_id, model.id, metrics)
    thresholds = GateThresholds.from_settings(ctx.settings)
    was_active = model.status is ModelStatus.active
    fallback = _roll_back(ctx, model, actor, lambda m: passes(m, thresholds)) if failures and was_active else None
    return {"model_id": str(model.id), "version": model.version, "avatar_id": str(model.target_id),
            "passed": not failures, "failures": failures, "was_active": was_active,
            "rolled_back_to": {"model_id": str(fallback.id), "version": fallback.version} if fallback else None,
            "review": bool(failures) and was_active and fallback is None,
            "metrics": metrics, "replaced_metrics": replaced}
