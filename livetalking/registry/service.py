"""Register, list, show, delete, promote and roll back model versions, record newer metrics; personas follow the
active one."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from livetalking.errors import Conflict, InvalidInput, LiveTalkingError
from livetalking.platform.db import session_scope
from livetalking.platform.store import ArtifactStore, StoredObject, scoped_key
from livetalking.platform.tables import (Avatar, LiveSession, ModelKind, ModelStatus, ModelVersion, Voice)
from livetalking.platform.tenancy import get_owned
from livetalking.platform.timeutil import utcnow
from livetalking.registry.card import FILE_NAMES, ArtifactFormat, ModelCard


@dataclass(frozen=True)
class ModelFilter:
    """Listing filters; every listing is also limited to the caller's tenant."""

    kind: ModelKind | None = None
    status: ModelStatus | None = None
    backbone: str | None = None
    name: str | None = None
    target_id: uuid.UUID | None = None


def parse_card(raw: str | bytes | object) -> ModelCard:
    """A validated model card (from JSON text, or parsed JSON), or InvalidInput listing every broken field."""
    try:
        if isinstance(raw, str | bytes):
            return ModelCard.model_validate_json(raw)
        return ModelCard.model_validate(raw)
    except ValidationError as e:
        raise InvalidInput.from_validation(e.errors(), "the model card does not match the schema: ",
                                           code="model.invalid_card") from e


def persona_table(kind: ModelKind) -> type[Avatar] | type[Voice]:
    """The table a model of this kind animates or speaks for."""
    return Avatar if kind is ModelKind.avatar else Voice


def _target(session: Session, tenant_id: uuid.UUID, kind: ModelKind, target_id: uuid.UUID):
    return get_owned(session, persona_table(kind), tenant_id, target_id, kind.value)


def get_model(session: Session, tenant_id: uuid.UUID, model_id: uuid.UUID) -> ModelVersion:
    """A model version of this tenant, or NotFound."""
    return get_owned(session, ModelVersion, tenant_id, model_id, "model")


def _store_artifacts(store: ArtifactStore, tenant_id: uuid.UUID, card: ModelCard,
                     uploads: dict[ArtifactFormat, Path], written: list[str]) -> dict[str, dict]:
    artifacts: dict[str, dict] = {}
    for fmt, path in uploads.items():
        key = scoped_key(tenant_id, "models", card.name, card.version, FILE_NAMES[fmt])
        stored: StoredObject = store.put_file(key, path)
        written.append(key)
        expected = card.artifacts.get(fmt)
        if expected is not None and expected.sha256 is not None and expected.sha256 != stored.sha256:
            raise InvalidInput(f"the {fmt.value} upload has sha256 {stored.sha256}, the card says {expected.sha256}",
                               code="model.sha256_mismatch")
        artifacts[fmt.value] = {"key": key, "sha256": stored.sha256, "size": stored.size}
    tenant_prefix = scoped_key(tenant_id, "models") + "/"
    for fmt, ref in card.artifacts.items():
        if fmt in uploads:
            continue
        if ref.key is None or ref.sha256 is None:
            raise InvalidInput(f"the {fmt.value} artifact needs an upload, or a key and sha256 in the store",
                               code="model.artifact_missing")
        if not ref.key.startswith(tenant_prefix):
            raise InvalidInput(f"artifact keys must lie under {tenant_prefix}", code="model.artifact_key")
        with store.open_local(ref.key, sha256=ref.sha256) as local:
            size = local.stat().st_size
        artifacts[fmt.value] = {"key": ref.key, "sha256": ref.sha256, "size": size}
    if not artifacts:
        raise InvalidInput("a model version needs at least one artifact (pt, torchscript or onnx)",
                           code="model.artifact_missing")
    return artifacts


def register_model(engine: Engine, store: ArtifactStore, tenant_id: uuid.UUID, actor: uuid.UUID,
                   card: ModelCard, uploads: dict[ArtifactFormat, Path]) -> ModelVersion:
    """Store the artifacts and record a candidate version; on failure nothing that was written stays."""
    with session_scope(engine) as session:
        if card.target_id is not None:
            _target(session, tenant_id, card.kind, card.target_id)
        if card.parent_version_id is not None:
            get_model(session, tenant_id, card.parent_version_id)
        clash = session.exec(select(ModelVersion.id).where(
            ModelVersion.tenant_id == tenant_id, ModelVersion.name == card.name,
            ModelVersion.version == card.version)).first()
        if clash is not None:
            raise Conflict(f"{card.name} version {card.version} is already registered", code="model.exists")
    _check_config_files(store, tenant_id, card)
    written: list[str] = []
    try:
        artifacts = _store_artifacts(store, tenant_id, card, uploads, written)
        with session_scope(engine) as session:
            model = ModelVersion(
                tenant_id=tenant_id, name=card.name, version=card.version, backbone=card.backbone,
                kind=card.kind, target_id=card.target_id, sample_rate=card.sample_rate,
                input_shape=list(card.input_shape), metrics=dict(card.metrics), config=dict(card.config),
                formats=sorted(artifacts), artifacts=artifacts, parent_version_id=card.parent_version_id,
                created_by=actor)
            session.add(model)
    except IntegrityError as e:
        _remove(store, written)
        raise Conflict(f"{card.name} version {card.version} is already registered", code="model.exists") from e
    except BaseException:
        _remove(store, written)
        raise
    return model


def _remove(store: ArtifactStore, keys: list[str]) -> None:
    for key in keys:
        store.delete(key)


def list_models(session: Session, tenant_id: uuid.UUID, flt: ModelFilter, limit: int,
                offset: int) -> tuple[list[ModelVersion], int]:
    """One page of the tenant's model versions (newest first) and the total count."""
    conditions = [ModelVersion.tenant_id == tenant_id]
    for column, value in ((ModelVersion.kind, flt.kind), (ModelVersion.status, flt.status),
                          (ModelVersion.backbone, flt.backbone), (ModelVersion.name, flt.name),
                          (ModelVersion.target_id, flt.target_id)):
        if value is not None:
            conditions.append(column == value)
    total = session.exec(select(func.count()).select_from(ModelVersion).where(*conditions)).one()
    rows = session.exec(select(ModelVersion).where(*conditions)
                        .order_by(col(ModelVersion.created_at).desc(), col(ModelVersion.id).desc())
                        .offset(offset).limit(limit))
    return list(rows), int(total)


def _in_live_use(session: Session, model_id: uuid.UUID) -> bool:
    query = select(LiveSession.id).where(
        LiveSession.state == "open",
        (LiveSession.avatar_version_id == model_id) | (LiveSession.voice_version_id == model_id))
    return session.exec(query.limit(1)).first() is not None


def delete_model(engine: Engine, store: ArtifactStore, tenant_id: uuid.UUID, model_id: uuid.UUID) -> None:
    """Delete a version that is neither active nor used by a live session: the row first, then the artifacts."""
    with session_scope(engine) as session:
        model = get_model(session, tenant_id, model_id)
        if model.status is ModelStatus.active:
            raise Conflict("the model version is active; promote another version or roll back first",
                           code="model.active")
        if _in_live_use(session, model_id):
            raise Conflict("a live session uses this model version", code="model.in_use")
        keys = [a["key"] for a in stored_files(model).values()]
        session.delete(model)
    _remove(store, keys)


def _activate(session: Session, target, model: ModelVersion) -> None:
    model.status = ModelStatus.active
    model.promoted_at = utcnow()
    target.active_version_id = model.id
    target.model_version = model.version
    target.model_path = next(iter(model.artifacts.values()))["key"] if model.artifacts else None
    target.metrics = dict(model.metrics)
    target.state = "ready"
    target.updated_at = utcnow()
    session.add(model)
    session.add(target)


def promote_model(engine: Engine, tenant_id: uuid.UUID, model_id: uuid.UUID) -> ModelVersion:
    """Make a version the active one of its avatar or voice; the previous active one is archived, not removed."""
    with session_scope(engine) as session:
        model = get_model(session, tenant_id, model_id)
        if model.status not in (ModelStatus.candidate, ModelStatus.archived):
            raise Conflict(f"a {model.status.value} version cannot be promoted", code="model.not_promotable")
        if model.target_id is None:
            raise Conflict("the version names no avatar or voice (target_id) to promote it for",
                           code="model.no_target")
        target = _target(session, tenant_id, model.kind, model.target_id)
        previous_id = target.active_version_id
        if previous_id is not None:
            previous = session.get(ModelVersion, previous_id)
            previous.status = ModelStatus.archived
            session.add(previous)
            model.replaces_version_id = previous_id
        _activate(session, target, model)
    return model


def _active_model(session: Session, tenant_id: uuid.UUID, model_id: uuid.UUID) -> ModelVersion:
    model = get_model(session, tenant_id, model_id)
    if model.status is not ModelStatus.active:
        raise Conflict("only the active version can be rolled back", code="model.not_active")
    return model


def _roll_back(session: Session, tenant_id: uuid.UUID, model: ModelVersion, previous: ModelVersion) -> ModelVersion:
    target = _target(session, tenant_id, model.kind, model.target_id)
    model.status = ModelStatus.archived
    session.add(model)
    _activate(session, target, previous)
    return previous


def rollback_model(engine: Engine, tenant_id: uuid.UUID, model_id: uuid.UUID) -> ModelVersion:
    """Undo the promotion of an active version: the version it replaced becomes active again."""
    with session_scope(engine) as session:
        model = _active_model(session, tenant_id, model_id)
        previous = session.get(ModelVersion, model.replaces_version_id) if model.replaces_version_id else None
        if previous is None:
            raise Conflict("there is no previous version to roll back to", code="model.no_previous")
        return _roll_back(session, tenant_id, model, previous)


def _earlier_versions(session: Session, model: ModelVersion) -> list[ModelVersion]:
    """The other versions of the model (same name and avatar or voice) registered before it and not rejected,
    newest first."""
    return list(session.exec(select(ModelVersion).where(
        ModelVersion.tenant_id == model.tenant_id, ModelVersion.name == model.name,
        ModelVersion.target_id == model.target_id, ModelVersion.id != model.id,
        col(ModelVersion.created_at) < model.created_at, ModelVersion.status != ModelStatus.rejected)
        .order_by(col(ModelVersion.created_at).desc())))


def rollback_to_passing(engine: Engine, tenant_id: uuid.UUID, model_id: uuid.UUID,
                        passes: Callable[[dict], bool]) -> ModelVersion | None:
    """Replace an active version by the newest earlier version of its model whose recorded metrics `passes`;
    None, with nothing changed, when there is none."""
    with session_scope(engine) as session:
        model = _active_model(session, tenant_id, model_id)
        previous = next((v for v in _earlier_versions(session, model) if passes(v.metrics)), None)
        return _roll_back(session, tenant_id, model, previous) if previous is not None else None


def record_metrics(engine: Engine, tenant_id: uuid.UUID, model_id: uuid.UUID, metrics: dict[str, float]) -> dict:
    """Store newer measures on a version (the ones it does not measure again are kept), and on its avatar or voice
    when it is the active one; returns the values they replaced."""
    with session_scope(engine) as session:
        model = get_model(session, tenant_id, model_id)
        replaced = {k: model.metrics[k] for k in metrics if k in model.metrics}
        model.metrics = {**model.metrics, **{k: float(v) for k, v in metrics.items()}}
        session.add(model)
        if model.status is ModelStatus.active and model.target_id is not None:
            target = _target(session, tenant_id, model.kind, model.target_id)
            target.metrics, target.updated_at = dict(model.metrics), utcnow()
            session.add(target)
    return replaced


def stored_files(model: ModelVersion) -> dict[str, dict]:
    """Every file of a version in the store: its artifacts by format, and the files its config lists by name
    (a voice's speaker.npy, voice.json, fine-tuned model.pth); only keys inside the tenant's models/."""
    prefix = scoped_key(model.tenant_id, "models") + "/"
    files = {name: ref for name, ref in model.config.get("files", {}).items()
             if isinstance(ref, dict) and str(ref.get("key", "")).startswith(prefix)}
    return {**files, **model.artifacts}


def _check_config_files(store: ArtifactStore, tenant_id: uuid.UUID, card: ModelCard) -> None:
    """Files a card's config names must be this tenant's, stored, and match their sha256."""
    files = card.config.get("files", {})
    if not isinstance(files, dict):
        raise InvalidInput("config.files must map file names to {key, sha256}", code="model.invalid_card")
    prefix = scoped_key(tenant_id, "models") + "/"
    for name, ref in files.items():
        if not isinstance(ref, dict) or not isinstance(ref.get("key"), str) or not isinstance(ref.get("sha256"), str):
            raise InvalidInput(f"config.files[{name!r}] needs key and sha256", code="model.invalid_card")
        if not ref["key"].startswith(prefix):
            raise InvalidInput(f"file keys must lie under {prefix}", code="model.artifact_key")
        with store.open_local(ref["key"], sha256=ref["sha256"]):
            pass


def verify_artifacts(store: ArtifactStore, model: ModelVersion) -> dict[str, str]:
    """Re-hash every file of a version: {format or file name: 'ok' | problem}."""
    results: dict[str, str] = {}
    for fmt, artifact in sorted(stored_files(model).items()):
        try:
            with store.open_local(artifact["key"], sha256=artifact["sha256"]):
                results[fmt] = "ok"
        except LiveTalkingError as e:
            results[fmt] = f"{e.code}: {e.message}"
    return results
