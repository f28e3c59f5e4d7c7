"""Does Serve's memory stay bounded as chunked data keeps arriving? Proxy + ingress RSS over 50, 200, 400 MB."""

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.cold_start import LIVETALKING, _free_port
from benchmarks.table import print_table
from benchmarks.upload_throughput import PeakRss, _wait_ready

BATCHES_MB = (50, 200, 400)


def serve_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if any(tag in " ".join(p.info["cmdline"] or []) for tag in ("ProxyActor", "Ingress"))]


def run(chunk_bytes: int) -> list[list]:
    root = Path(tempfile.mkdtemp())
    port = _free_port()
    env = {**os.environ, "LT_DATA_ROOT": str(root / "data"), "LT_MODELS_ROOT": str(root / "models"),
           "LT_HTTP_PORT": str(port), "LT_RAY_DASHBOARD_PORT": str(_free_port()),
           "LT_UPLOAD_CHUNK_BYTES": str(chunk_bytes)}
    log = root / "run.log"
    with open(log, "w") as handle:
        process = subprocess.Popen([LIVETALKING, "run"], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        _wait_ready(url, process, log)
        while not (found := re.search(r"LT_API_KEY=(lt_\S+)", log.read_text())):
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {found.group(1)}"}
        sent_total = 0
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            for batch_mb in BATCHES_MB:
                size = batch_mb * 2**20
                upload = client.post("/api/v1/uploads", json={"filename": "x.mp4", "size_bytes": size}).json()
                data = os.urandom(upload["chunk_bytes"])
                with PeakRss(serve_processes) as rss:
                    began = time.monotonic()
                    for index in range(upload["chunk_count"]):
                        part = data[: min(len(data), size - index * len(data))]
                        response = client.put(f"/api/v1/uploads/{upload['id']}/chunks/{index}", content=part)
                        response.raise_for_status()
                    seconds = time.monotonic() - began
                sent_total += batch_mb
                client.delete(f"/api/v1/uploads/{upload['id']}")
                rows.append([f"{chunk_bytes >> 20} MiB", batch_mb, sent_total, batch_mb / seconds,
                             rss.baseline / 2**20, rss.peak / 2**20])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
    return rows


def main() -> None:
    rows = run(8 * 2**20) + run(2 * 2**20)
    print_table("chunk PUTs through Ray Serve: RSS of proxy + ingress (one fresh server per chunk size)",
                ["chunk", "batch MB", "sent so far MB", "MB/s", "RSS before MiB", "peak RSS MiB"], rows)


if __name__ == "__main__":
    main()
