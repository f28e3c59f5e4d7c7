"""Shared fixtures: settings in a temp folder, SQLite and real PostgreSQL databases, the API client, keys per role."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from livetalking.platform.auth import create_key, ensure_tenant
from livetalking.platform.db import make_engine, migrate, session_scope
from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context, create_app
from livetalking.serve_apps.api.context import AppContext
from livetalking.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("LT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_UPLOAD_LIMIT = 8 * 1024 * 1024


def _postgres_available() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except sa.exc.OperationalError as e:
        return str(e).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database used as the template of each test's own database."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {problem}")
    name = f"lt_template_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"lt_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> str:
    """Each DB test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    return request.getfixturevalue("postgres_url")


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(data_root=tmp_path / "data", models_root=tmp_path / "models",
                  max_upload_bytes=TEST_UPLOAD_LIMIT, video_max_duration_s=11.0, task_poll_interval_s=0.05,
                  upload_chunk_bytes=64 * 1024)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def context(sqlite_settings: Settings) -> Iterator[AppContext]:
    ctx = build_context(sqlite_settings)
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def db_context(settings: Settings) -> Iterator[AppContext]:
    """The app context on SQLite and on PostgreSQL."""
    ctx = build_context(settings)
    yield ctx
    ctx.engine.dispose()


class Keys:
    """Tenants 'own' and 'other' with one key per role each."""

    def __init__(self, context: AppContext):
        self.tokens: dict[tuple[str, Role], str] = {}
        self.tenant_ids: dict[str, uuid.UUID] = {}
        with session_scope(context.engine) as session:
            for tenant_name in ("own", "other"):
                tenant = ensure_tenant(session, tenant_name)
                tenant.min_video_short_side = 512
                self.tenant_ids[tenant_name] = tenant.id
                for role in Role:
                    _, token = create_key(session, tenant.id, role, f"{tenant_name}-{role.value}")
                    self.tokens[(tenant_name, role)] = token

    def headers(self, role: Role = Role.admin, tenant: str = "own") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(tenant, role)]}"}


def client_for(context: AppContext) -> TestClient:
    return TestClient(create_app(context))


@pytest.fixture
def keys(context: AppContext) -> Keys:
    return Keys(context)


@pytest.fixture
def client(context: AppContext) -> TestClient:
    return client_for(context)


@pytest.fixture
def db_keys(db_context: AppContext) -> Keys:
    return Keys(db_context)


@pytest.fixture
def db_client(db_context: AppContext) -> TestClient:
    return client_for(db_context)


def engine_for(url: str):
    engine = make_engine(url)
    migrate(engine)
    return engine


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    from tests.fixtures.corpus import MediaFactory

    return MediaFactory(tmp_path_factory.mktemp("media"))


def new_consent(client: TestClient, headers: dict, **overrides) -> str:
    body = {"subject_name": "Anna Example", "consent_given": True, "scope": "avatar and voice clone",
            "licence": "studio contract 2026-11"}
    body.update(overrides)
    response = client.post("/api/v1/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def upload_take(client: TestClient, headers: dict, file: Path, *, kind: str = "video", consent_id: str | None,
                filename: str | None = None, **fields):
    form = {"kind": kind, "face_id": "anna", **({"consent_id": consent_id} if consent_id else {}), **fields}
    with open(file, "rb") as handle:
        return client.post("/api/v1/takes", headers=headers, data=form,
                           files={"file": (filename or file.name, handle)})


def model_card(name: str = "anna-lipsync", version: str = "1", kind: str = "avatar", target_id: str | None = None,
               **extra) -> dict:
    card = {"name": name, "version": version, "backbone": "wav2lip96" if kind == "avatar" else "piper-vc",
            "kind": kind, "input_shape": [1, 6, 96, 96] if kind == "avatar" else [1, 80, -1],
            "metrics": {"lse_d": 7.1, "psnr": 31.5}, "config": {"img_size": 96}}
    if kind == "voice":
        card["sample_rate"] = 22050
    if target_id:
        card["target_id"] = target_id
    card.update(extra)
    return card


def register_model(client: TestClient, headers: dict, card: dict, artifacts: dict[str, bytes] | None = None):
    import json

    artifacts = {"pt": b"weights of " + card["name"].encode() + card["version"].encode()} \
        if artifacts is None else artifacts
    files = {fmt: (f"model.{fmt}", data) for fmt, data in artifacts.items()}
    return client.post("/api/v1/models/register", headers=headers, data={"card": json.dumps(card)}, files=files)


REPO_BASE_MODELS = Path(__file__).resolve().parents[1] / "models" / "base"


@pytest.fixture
def prep_settings(tmp_path: Path) -> Settings:
    """Settings whose store root also holds the repository's base models (linked), as a deployment's would."""
    settings = make_settings(tmp_path)
    settings.models_root.mkdir(parents=True, exist_ok=True)
    (settings.models_root / "base").symlink_to(REPO_BASE_MODELS, target_is_directory=True)
    return settings


def pytest_collection_modifyitems(config, items):
    """Tests marked gpu run only where CUDA is present."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_xtts_models(tmp_path_factory) -> Path:
    """A models root whose base/xtts_v2/ holds a tiny random XTTS-v2 (built once per test session)."""
    from tests.fixtures.tiny_xtts import build_tiny_xtts

    root = tmp_path_factory.mktemp("xtts-models")
    build_tiny_xtts(root / "base" / "xtts_v2")
    return root
