"""CLI commands that work on the database directly."""

import os
import re
import subprocess
import sys
from pathlib import Path

from livetalking.platform.auth import authenticate
from livetalking.platform.db import make_engine, session_scope
from livetalking.platform.tables import Role

LIVETALKING = str(Path(sys.executable).with_name("livetalking"))


def test_tenants_create_prints_a_working_admin_key_once(tmp_path):
    env = {**os.environ, "LT_DATA_ROOT": str(tmp_path / "data"), "LT_MODELS_ROOT": str(tmp_path / "models")}
    result = subprocess.run([LIVETALKING, "tenants", "create", "studio-b"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    tokens = re.findall(r"lt_[0-9a-f]{12}_[A-Za-z0-9_-]+", result.stdout)
    assert len(tokens) == 1
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'meta.db'}")
    with session_scope(engine) as session:
        principal = authenticate(session, tokens[0])
    assert principal.role is Role.admin
    engine.dispose()


def test_takes_add_refuses_a_missing_file(tmp_path):
    env = {**os.environ, "LT_URL": "http://127.0.0.1:9", "LT_API_KEY": "lt_x_y"}
    result = subprocess.run([LIVETALKING, "takes", "add", str(tmp_path / "missing.mp4"), "--face-id", "a",
                             "--consent-id", "c"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_an_unreachable_server_is_one_clear_line_not_a_traceback(tmp_path):
    env = {**os.environ, "LT_URL": "http://127.0.0.1:9", "LT_API_KEY": "lt_x_y"}
    take = tmp_path / "take.wav"
    take.write_bytes(b"RIFF")
    for args in (["status"], ["models", "list"], ["takes", "add", str(take), "--face-id", "a", "--consent-id", "c"]):
        result = subprocess.run([LIVETALKING, *args], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, args
        assert "cannot reach the API at http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr
