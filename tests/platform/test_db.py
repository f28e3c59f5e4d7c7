"""The metadata database on SQLite and on a real PostgreSQL: migrations, constraints, time zones, atomic claims."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from livetalking.platform.db import make_engine, migrate, session_scope
from livetalking.platform.tables import ModelKind, ModelVersion, Task, TaskState, Tenant
from livetalking.platform.tasks import claim_next, create_task
from tests.conftest import engine_for

EXPECTED_TABLES = {"upload", "upload_chunk", "tenant", "api_key", "consent", "take", "avatar", "voice",
                   "model_version", "task", "audit_event", "live_session", "alembic_version", "prepared_take"}


def test_migrations_create_every_table_and_are_idempotent(database_url):
    engine = engine_for(database_url)
    migrate(engine)
    inspector = sa.inspect(engine)
    assert EXPECTED_TABLES <= set(inspector.get_table_names())
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    engine.dispose()


def test_timestamps_come_back_aware_in_utc(database_url):
    engine = engine_for(database_url)
    moment = datetime(2026, 11, 25, 12, 30, 15, tzinfo=UTC)
    with session_scope(engine) as session:
        session.add(Tenant(name="tz", created_at=moment))
    with session_scope(engine) as session:
        tenant = session.exec(select(Tenant).where(Tenant.name == "tz")).one()
    assert tenant.created_at == moment and tenant.created_at.tzinfo is not None
    engine.dispose()


def test_unique_constraints_hold(database_url):
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        tenant = Tenant(name="acme")
        session.add(tenant)
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            session.add(Tenant(name="acme"))

    def version(v):
        return ModelVersion(tenant_id=tenant.id, name="anna-lipsync", version=v, backbone="wav2lip",
                            kind=ModelKind.avatar, input_shape=[1, 6, 96, 96])

    with session_scope(engine) as session:
        session.add(version("1"))
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            session.add(version("1"))
    with session_scope(engine) as session:
        assert len(session.exec(select(ModelVersion)).all()) == 1
    engine.dispose()


def test_foreign_keys_are_enforced(database_url):
    engine = engine_for(database_url)
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            session.add(Task(tenant_id=uuid.uuid4(), type="models:verify"))
    engine.dispose()


def test_concurrent_runners_never_claim_the_same_task(database_url):
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        tenant = Tenant(name="claims")
        session.add(tenant)
        session.flush()
        for i in range(20):
            create_task(session, tenant.id, "models:verify", {"i": i}, known_types={"models:verify"},
                        priority=i % 3)
    claimed: list[uuid.UUID] = []
    lock = threading.Lock()

    def runner(name):
        local = make_engine(database_url)
        while (task := claim_next(local, name)) is not None:
            with lock:
                claimed.append(task.id)
        local.dispose()

    threads = [threading.Thread(target=runner, args=(f"runner-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 20 and len(set(claimed)) == 20
    with session_scope(engine) as session:
        tasks = session.exec(select(Task)).all()
    assert all(t.state is TaskState.running and t.attempts == 1 for t in tasks)
    engine.dispose()


def test_the_migration_matches_the_table_definitions(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    engine = engine_for(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == []
