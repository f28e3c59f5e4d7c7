"""Latency of GET /api/v1/models (first page of 50, and a filtered page) with 10,000 rows, on SQLite and PostgreSQL."""

import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from benchmarks.table import median, percentile, print_table
from livetalking.platform.auth import create_key, ensure_tenant
from livetalking.platform.db import session_scope
from livetalking.platform.tables import ModelVersion, Role
from livetalking.platform.timeutil import utcnow
from livetalking.serve_apps.api.app import build_context, create_app
from livetalking.settings import Settings

ROWS = 10_000
REQUESTS = 300
POSTGRES_ADMIN_URL = os.environ.get("LT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fill(context, rows: int) -> str:
    with session_scope(context.engine) as session:
        tenant = ensure_tenant(session, "bench")
        _, token = create_key(session, tenant.id, Role.viewer, "bench")
        other = ensure_tenant(session, "noise")
    now = utcnow()
    batch = []
    for i in range(rows):
        owner = tenant.id if i % 2 == 0 else other.id
        batch.append(dict(
            id=uuid.uuid4(), tenant_id=owner, name=f"person-{i % 500}", version=str(i), backbone=(
                "wav2lip96" if i % 3 else "piper-vc"), kind="avatar" if i % 3 else "voice",
            input_shape=[1, 6, 96, 96], metrics={"psnr": 30.0 + i % 7}, config={}, formats=["pt"],
            artifacts={"pt": {"key": f"tenants/{owner}/models/x/{i}/model.pt", "sha256": "0" * 64, "size": 1}},
            status="candidate", created_at=now))
    with context.engine.begin() as connection:
        connection.execute(sa.insert(ModelVersion.__table__), batch)
    return token


def measure(context, token: str) -> dict[str, list[float]]:
    client = TestClient(create_app(context))
    headers = {"Authorization": f"Bearer {token}"}
    results = {}
    for label, params in (("first page", {}), ("filtered page", {"kind": "voice", "backbone": "piper-vc",
                                                                   "offset": 1000})):
        times = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            response = client.get("/api/v1/models", params=params, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200 and response.json()["items"]
        results[label] = times
    return results


def postgres_database() -> tuple[str, callable]:
    name = f"lt_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as root:
        pg_url, drop = postgres_database()
        try:
            for db_name, url in (("sqlite", f"sqlite:///{Path(root) / 'meta.db'}"), ("postgresql", pg_url)):
                settings = Settings(data_root=Path(root) / db_name, models_root=Path(root) / "models",
                                    database_url=url)
                context = build_context(settings)
                token = fill(context, ROWS)
                for label, times in measure(context, token).items():
                    rows.append([db_name, label, ROWS, REQUESTS, median(times), percentile(times, 99)])
                context.engine.dispose()
        finally:
            drop()
    print_table(f"GET /api/v1/models with {ROWS} model rows (half in another tenant), in-process client",
                ["database", "query", "rows", "requests", "p50 ms", "p99 ms"], rows)


if __name__ == "__main__":
    main()
