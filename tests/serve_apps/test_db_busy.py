"""A write that cannot get the database's lock within LT_DB_BUSY_TIMEOUT_S is refused at once with 503 db.busy."""

import sqlite3
import time
from contextlib import contextmanager

import httpx
import sqlalchemy as sa

from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context
from tests.conftest import Keys, client_for, make_settings
from tests.serve_apps.live import serving


@contextmanager
def lock_held(url: str, tenant_id):
    """Another client holds the write lock (SQLite) or the tenant row's lock (PostgreSQL)."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(sa.engine.make_url(url).database)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    engine = sa.create_engine(url)
    with engine.connect() as holder, holder.begin():
        holder.execute(sa.text("SELECT id FROM tenant WHERE id = :id FOR UPDATE"), {"id": tenant_id})
        yield
    engine.dispose()


def test_a_locked_database_answers_503_with_retry_after(tmp_path, database_url):
    context = build_context(make_settings(tmp_path, database_url=database_url, db_busy_timeout_s=0.3))
    keys = Keys(context)
    tenant_id = keys.tenant_ids["own"] if database_url.startswith("postgresql") else keys.tenant_ids["own"].hex
    with serving(client_for(context).app) as url, httpx.Client(base_url=url, headers=keys.headers(Role.admin)) as http:
        assert http.get("/api/v1/me").status_code == 200
        with lock_held(database_url, tenant_id):
            began = time.monotonic()
            busy = http.patch("/api/v1/tenant", json={"min_video_short_side": 640})
            elapsed = time.monotonic() - began
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "db.busy", busy.text
        assert busy.headers["retry-after"] == "1" and elapsed < 2.0
        assert http.patch("/api/v1/tenant", json={"min_video_short_side": 640}).status_code == 200
        outcomes = [e["outcome"] for e in http.get("/api/v1/audit", params={"action": "PATCH /api/v1/tenant"}).json()]
    assert sorted(outcomes) == ["error", "ok"]  # the refused write is audited once the lock is free
    context.engine.dispose()
