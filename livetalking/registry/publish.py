"""Publishing a trained avatar or voice version: upload its folder, register it with the card, apply the gate.

A version whose gate lists failures stays a candidate and its avatar or voice is flagged for review
(the active version is kept); one that passes is promoted. A failure at any step removes what the
step had written, so a refused version leaves no file and no row.
"""

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from livetalking.platform.db import session_scope
from livetalking.platform.personas import set_state
from livetalking.platform.store import ArtifactStore, scoped_key
from livetalking.platform.tables import ModelKind, ModelStatus, ModelVersion
from livetalking.registry.card import ModelCard
from livetalking.registry.service import persona_table, promote_model, register_model


@dataclass(frozen=True)
class PublishTarget:
    """Where a version goes: the avatar or voice it belongs to, the database and the artifact store."""

    db: Engine
    store: ArtifactStore
    tenant_id: uuid.UUID
    persona_id: uuid.UUID
    kind: ModelKind
    actor: uuid.UUID | None = None

    @property
    def model_name(self) -> str:
        return f"{self.kind.value}-{self.persona_id}"

    def active_version(self) -> ModelVersion | None:
        with session_scope(self.db) as session:
            persona = session.get(persona_table(self.kind), self.persona_id)
            return session.get(ModelVersion, persona.active_version_id) if persona.active_version_id else None


@dataclass(frozen=True)
class PublishedVersion:
    model_id: uuid.UUID
    name: str
    version: str
    backbone: str
    status: str
    metrics: dict
    gate_failures: list[str] = field(default_factory=list)


def next_version(target: PublishTarget) -> str:
    """v1, v2, ...: one more than the versions registered under the target's model name."""
    with session_scope(target.db) as session:
        count = session.exec(select(func.count()).select_from(ModelVersion).where(
            ModelVersion.tenant_id == target.tenant_id, ModelVersion.name == target.model_name)).one()
    return f"v{int(count) + 1}"


def upload_files(target: PublishTarget, folder: Path, version: str, names) -> dict[str, dict]:
    """Put the files under models/<kind>s/<persona>/<version>/; if one fails, the ones already written are removed."""
    prefix = scoped_key(target.tenant_id, "models", f"{target.kind.value}s", str(target.persona_id), version)
    written: dict[str, dict] = {}
    try:
        for name in names:
            stored = target.store.put_file(f"{prefix}/{name}", folder / name)
            written[name] = {"key": stored.key, "sha256": stored.sha256, "size": stored.size}
    except BaseException:
        for item in written.values():
            target.store.delete(item["key"])
        raise
    return written


def register_version(target: PublishTarget, card: dict, config: dict, metrics: dict, files: dict,
                     artifacts: dict[str, str], extra_files, failures: list[str]) -> PublishedVersion:
    """Register the uploaded files as a candidate version (removing them if that fails), then apply the gate's
    verdict (`failures`, empty when it passed)."""
    try:
        model = register_model(target.db, target.store, target.tenant_id, target.actor, ModelCard(
            **card, kind=target.kind, target_id=target.persona_id,
            metrics={k: float(v) for k, v in metrics.items()},
            config={**config, "files": {n: files[n] for n in extra_files}},
            artifacts={fmt: _ref(files[name]) for fmt, name in artifacts.items()}), {})
    except BaseException:
        for item in files.values():
            target.store.delete(item["key"])
        raise
    if failures:
        set_state(target.db, persona_table(target.kind), target.persona_id, "review", metrics)
        status = ModelStatus.candidate
    else:
        status = promote_model(target.db, target.tenant_id, model.id).status
    return PublishedVersion(model.id, model.name, model.version, model.backbone, status.value, metrics, failures)


def _ref(item: dict) -> dict:
    return {"key": item["key"], "sha256": item["sha256"]}
