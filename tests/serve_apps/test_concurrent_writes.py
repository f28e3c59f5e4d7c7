"""50 clients reading and writing at once over loopback, on SQLite and PostgreSQL: every request is served (no
5xx, none over 2 s) and the database holds exactly what the answers said."""

import asyncio
import time

import httpx
from sqlmodel import func, select

from livetalking.platform.db import session_scope
from livetalking.platform.tables import AuditEvent, Avatar, Consent, Role, Upload
from tests.serve_apps.live import serving_process

CLIENTS = 50
LIMIT_S = 2.0


async def one_client(http: httpx.AsyncClient, n: int, timings: list[tuple[str, int, float]]) -> int:
    """Create a consent, an avatar and an upload, read each back, rename the avatar; the writes made."""

    async def call(method: str, path: str, **kwargs) -> httpx.Response:
        began = time.perf_counter()
        response = await http.request(method, path, **kwargs)
        timings.append((f"{method} {path.split('/')[3]}", response.status_code, time.perf_counter() - began))
        return response

    consent = await call("POST", "/api/v1/consents", json={"subject_name": f"S{n}", "consent_given": True,
                                                           "scope": "all", "licence": "L"})
    avatar = await call("POST", "/api/v1/avatars", json={"display_name": f"A{n}"})
    upload = await call("POST", "/api/v1/uploads", json={"filename": f"take{n}.mp4", "size_bytes": 1000})
    for created, noun in ((consent, "consents"), (avatar, "avatars"), (upload, "uploads")):
        assert created.status_code == 201, created.text
        assert (await call("GET", f"/api/v1/{noun}/{created.json()['id']}")).status_code == 200
    renamed = await call("PATCH", f"/api/v1/avatars/{avatar.json()['id']}", json={"display_name": f"B{n}"})
    assert renamed.json()["display_name"] == f"B{n}"
    assert len((await call("GET", "/api/v1/avatars", params={"limit": 500})).json()) >= 1
    return 4


async def load(url: str, headers: dict) -> tuple[list, int]:
    """One client first (the server's first use of each route is not what is measured), then all of them at once;
    the timings of the concurrent phase and the writes of both."""
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        warm_up = await one_client(http, CLIENTS, [])
        timings: list[tuple[str, int, float]] = []
        writes = await asyncio.gather(*(one_client(http, n, timings) for n in range(CLIENTS)))
    return timings, warm_up + sum(writes)


def count(session, table, tenant_id) -> int:
    return session.exec(select(func.count()).select_from(table).where(table.tenant_id == tenant_id)).one()


def test_fifty_concurrent_clients(db_context, db_keys):
    tenant_id = db_keys.tenant_ids["own"]
    with serving_process(db_context.settings) as url:
        timings, writes = asyncio.run(load(url, db_keys.headers(Role.operator)))
    assert len(timings) == CLIENTS * 8
    assert not [t for t in timings if t[1] >= 500], "server errors"
    slow = sorted((t for t in timings if t[2] > LIMIT_S), key=lambda t: -t[2])
    assert not slow, f"{len(slow)} requests over {LIMIT_S} s, slowest {slow[:3]}"
    with session_scope(db_context.engine) as session:
        assert count(session, Consent, tenant_id) == CLIENTS + 1
        assert count(session, Avatar, tenant_id) == CLIENTS + 1
        assert count(session, Upload, tenant_id) == CLIENTS + 1
        assert count(session, AuditEvent, tenant_id) == writes
        renamed = session.exec(select(Avatar.display_name).where(Avatar.tenant_id == tenant_id)).all()
    assert sorted(renamed) == sorted(f"B{n}" for n in range(CLIENTS + 1))
