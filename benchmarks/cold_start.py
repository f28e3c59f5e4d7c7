"""Cold start of `livetalking run` (fresh data folder) until /readyz answers 200, in seconds."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.table import median, print_table

LIVETALKING = str(Path(sys.executable).with_name("livetalking"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(root: Path) -> float:
    port = _free_port()
    env = {**os.environ, "LT_DATA_ROOT": str(root / "data"), "LT_MODELS_ROOT": str(root / "models"),
           "LT_HTTP_PORT": str(port), "LT_RAY_DASHBOARD_PORT": str(_free_port())}
    began = time.monotonic()
    with open(root / "run.log", "w") as log:
        process = subprocess.Popen([LIVETALKING, "run"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError((root / "run.log").read_text()[-2000:])
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        return time.monotonic() - began
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=90)


def main(runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as root:
            times.append(one_start(Path(root)))
    print_table("cold start: `livetalking run` to /readyz 200 (fresh data folder)",
                ["runs", "median s", "min s", "max s"], [[runs, median(times), min(times), max(times)]])


if __name__ == "__main__":
    main()
