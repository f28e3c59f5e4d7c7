"""Upload of a ~200 MB video take: throughput (MB/s) and the server's peak memory, directly and through Ray Serve."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import psutil

from benchmarks.cold_start import LIVETALKING, _free_port
from benchmarks.table import print_table

TARGET_BYTES = 200 * 1024 * 1024


def make_big_take(path: Path, width: int = 960, height: int = 720, fps: int = 25) -> Path:
    """A green-screen take that meets the default capture spec, made ~200 MB by lossless noise in its centre."""
    rng = np.random.default_rng(0)
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = (40, 170, 70)
    y0, y1, x0, x1 = int(0.1 * height), int(0.9 * height), int(0.15 * width), int(0.85 * width)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        frames = 0
        while frames < 10 * fps or (frames < 60 * fps and path.stat().st_size < TARGET_BYTES * 0.97):
            frame = base.copy()
            frame[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
            frames += 1
        for packet in stream.encode():
            out.mux(packet)
    return path


class PeakRss:
    """Samples the summed RSS of the processes `select` picks, every 20 ms, in a thread."""

    def __init__(self, select):
        self.select, self.peak, self.baseline = select, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int:
        total = 0
        for process in self.select():
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total

    def __enter__(self):
        self.baseline = self._total()
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._total())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def upload_chunked(url: str, key: str, consent: str, take: Path) -> float:
    from livetalking.client import Client

    client = Client(url, key)
    began = time.monotonic()
    upload_id = client.open_upload(take)["id"]
    client.send_missing(take, upload_id)
    client.request("POST", "/api/v1/takes", json={"upload_id": upload_id, "kind": "video", "face_id": "bench",
                                                  "consent_id": consent})
    return time.monotonic() - began


def upload(url: str, key: str, consent: str, take: Path) -> float:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
        with open(take, "rb") as handle:
            began = time.monotonic()
            response = client.post("/api/v1/takes", data={"kind": "video", "face_id": "bench", "consent_id": consent},
                                   files={"file": (take.name, handle)})
            seconds = time.monotonic() - began
    if response.status_code != 201:
        raise RuntimeError(response.text)
    return seconds


def consent_for(url: str, key: str) -> str:
    body = {"subject_name": "Bench", "consent_given": True, "scope": "benchmark", "licence": "none"}
    return httpx.post(url + "/api/v1/consents", json=body, headers={"Authorization": f"Bearer {key}"}).json()["id"]


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


MODES = {"resumable 8 MiB chunks": upload_chunked, "one multipart request": upload}


def through_uvicorn(root: Path, take: Path, mode: str) -> list:
    port = _free_port()
    env = {**os.environ, "LT_DATA_ROOT": str(root / "uv-data"), "LT_MODELS_ROOT": str(root / "uv-models"),
           "LT_HTTP_PORT": str(port)}
    log = root / "uvicorn.log"
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.api_server"], env=env, stdout=subprocess.PIPE,
                                   stderr=handle, text=True)
    try:
        key = process.stdout.readline().strip()
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log)
        consent = consent_for(url, key)
        server = psutil.Process(process.pid)
        with PeakRss(lambda: [server]) as rss:
            seconds = MODES[mode](url, key, consent, take)
        return [f"uvicorn (app only), {mode}", seconds, rss.baseline, rss.peak]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def through_serve(root: Path, take: Path, mode: str) -> list:
    import re

    port = _free_port()
    env = {**os.environ, "LT_DATA_ROOT": str(root / "rs-data"), "LT_MODELS_ROOT": str(root / "rs-models"),
           "LT_HTTP_PORT": str(port), "LT_RAY_DASHBOARD_PORT": str(_free_port())}
    log = root / "serve.log"
    with open(log, "w") as handle:
        process = subprocess.Popen([LIVETALKING, "run"], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=root)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log)
        while not (found := re.search(r"LT_API_KEY=(lt_\S+)", log.read_text())):
            time.sleep(0.2)
        key = found.group(1)
        consent = consent_for(url, key)

        def serve_processes():
            return [p for p in psutil.process_iter(["cmdline"])
                    if any(tag in " ".join(p.info["cmdline"] or []) for tag in ("ProxyActor", "Ingress"))]

        with PeakRss(serve_processes) as rss:
            seconds = MODES[mode](url, key, consent, take)
        return [f"Ray Serve (proxy + ingress), {mode}", seconds, rss.baseline, rss.peak]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.monotonic()
        take = make_big_take(root / "big_take.mp4")
        size_mb = take.stat().st_size / 1e6
        print(f"generated a {size_mb:.0f} MB take in {time.monotonic() - began:.0f} s")
        rows = []
        for run in (through_uvicorn, through_serve):
            for mode in MODES:
                workdir = root / f"{run.__name__}-{mode.replace(' ', '-')}"
                workdir.mkdir()
                name, seconds, baseline, peak = run(workdir, take, mode)
                rows.append([name, f"{size_mb:.0f}", seconds, size_mb / seconds, baseline / 2**20,
                             peak / 2**20, (peak - baseline) / 2**20])
    print_table("upload of one video take (stream to disk + PyAV validation + store + DB row), a fresh server each",
                ["server", "MB", "seconds", "MB/s", "RSS before MiB", "peak RSS MiB", "peak - before MiB"], rows)


if __name__ == "__main__":
    main()
