"""Latency of mixed writes (consent, avatar, rename, upload, task) at 1, 10 and 50 concurrent clients, on SQLite and
PostgreSQL, against the API under plain uvicorn on 127.0.0.1 (one worker process, as the ingress runs)."""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.cold_start import _free_port
from benchmarks.registry_listing import postgres_database
from benchmarks.table import median, percentile, print_table
from benchmarks.upload_throughput import _wait_ready

LEVELS = (1, 10, 50)
REQUESTS_PER_LEVEL = 500


async def one_client(http: httpx.AsyncClient, n: int, rounds: int, timings: list[float], refused: list[int]) -> None:
    async def write(method: str, path: str, body: dict) -> httpx.Response:
        began = time.perf_counter()
        response = await http.request(method, path, json=body)
        timings.append((time.perf_counter() - began) * 1000)
        if response.status_code >= 400:
            refused.append(response.status_code)
        return response

    for r in range(rounds):
        await write("POST", "/api/v1/consents", {"subject_name": f"S{n}-{r}", "consent_given": True, "scope": "all",
                                                 "licence": "bench"})
        avatar = await write("POST", "/api/v1/avatars", {"display_name": f"A{n}-{r}"})
        if avatar.status_code == 201:
            await write("PATCH", f"/api/v1/avatars/{avatar.json()['id']}", {"display_name": f"B{n}-{r}"})
        await write("POST", "/api/v1/uploads", {"filename": f"take{n}-{r}.mp4", "size_bytes": 1000})
        await write("POST", "/api/v1/tasks", {"type": "models:verify", "payload": {}})


async def level(url: str, key: str, clients: int) -> list:
    rounds = max(1, REQUESTS_PER_LEVEL // (clients * 5))
    timings: list[float] = []
    refused: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=60) as http:
        await one_client(http, -1, 1, [], [])
        began = time.perf_counter()
        await asyncio.gather(*(one_client(http, n, rounds, timings, refused) for n in range(clients)))
        seconds = time.perf_counter() - began
    return [clients, len(timings), median(timings), percentile(timings, 99), max(timings), len(timings) / seconds,
            len(refused)]


def serve(root: Path, database_url: str) -> tuple[subprocess.Popen, str, str]:
    port = _free_port()
    env = {**os.environ, "LT_DATA_ROOT": str(root / "data"), "LT_MODELS_ROOT": str(root / "models"),
           "LT_HTTP_PORT": str(port), "LT_DATABASE_URL": database_url}
    log = root / "server.log"
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.api_server"], env=env, stdout=subprocess.PIPE,
                                   stderr=handle, text=True)
    key = process.stdout.readline().strip()
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, process, log)
    return process, url, key


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pg_url, drop = postgres_database()
        try:
            for db_name, url in (("sqlite", f"sqlite:///{Path(tmp) / 'meta.db'}"), ("postgresql", pg_url)):
                root = Path(tmp) / db_name
                root.mkdir()
                process, base, key = serve(root, url)
                try:
                    for clients in LEVELS:
                        rows.append([db_name, *asyncio.run(level(base, key, clients))])
                finally:
                    process.send_signal(signal.SIGINT)
                    process.wait(timeout=30)
        finally:
            drop()
    print_table("mixed writes (POST consent, POST avatar, PATCH avatar, POST upload, POST task) over loopback, "
                "uvicorn, one process",
                ["database", "clients", "requests", "p50 ms", "p99 ms", "max ms", "req/s", "refused"], rows)


if __name__ == "__main__":
    main()
