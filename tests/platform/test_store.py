"""The artifact store on local folders and on a real S3 HTTP endpoint (moto's server on 127.0.0.1)."""

import hashlib
import threading
import uuid
from pathlib import Path
from unittest import mock

import boto3
import pytest
from moto.server import ThreadedMotoServer

from livetalking.errors import IntegrityFailure, NotFound, StoreError
from livetalking.platform.store import LocalStore, S3Store, make_store, scoped_key, validate_key
from livetalking.settings import Settings


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path):
    if request.param == "local":
        return LocalStore(tmp_path / "models")
    endpoint = request.getfixturevalue("s3_endpoint")
    settings = Settings(data_root=tmp_path / "data", models_root=tmp_path / "models", store_backend="s3",
                        s3_endpoint_url=endpoint, s3_bucket=f"lt-{uuid.uuid4().hex[:8]}",
                        s3_access_key_id="test", s3_secret_access_key="test")
    return make_store(settings)


TENANT = uuid.UUID(int=7)


def test_put_get_roundtrip_with_sha256(store, tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(bytes(range(256)) * 4096)
    key = scoped_key(TENANT, "models", "anna", "v1", "model.pt")
    stored = store.put_file(key, source)
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert stored.size == source.stat().st_size
    assert store.get_bytes(key, sha256=stored.sha256) == source.read_bytes()
    with store.open_local(key, sha256=stored.sha256) as local:
        assert local.read_bytes() == source.read_bytes()
    assert store.exists(key)
    assert store.list(scoped_key(TENANT, "models")) == [key]


def test_a_corrupted_artifact_fails_verification(store):
    key = scoped_key(TENANT, "takes", "t1", "source.wav")
    stored = store.put_bytes(key, b"original content")
    store.put_bytes(key, b"tampered content")
    with pytest.raises(IntegrityFailure):
        store.get_bytes(key, sha256=stored.sha256)
    with pytest.raises(IntegrityFailure):
        with store.open_local(key, sha256=stored.sha256):
            pass


def test_missing_artifacts_are_not_found_and_delete_is_idempotent(store):
    key = scoped_key(TENANT, "nothing", "here.bin")
    with pytest.raises(NotFound):
        store.get_bytes(key)
    assert not store.exists(key)
    store.delete(key)
    store.put_bytes(key, b"x")
    store.delete(key)
    assert not store.exists(key)


@pytest.mark.parametrize("key", [
    "../outside", "tenants/../../etc/passwd", "/etc/passwd", "tenants//double", "tenants/a/./b",
    "tenants\\windows", "tenants/nul\x00byte", "", "tenants/.hidden", "tenants/" + "x" * 600,
])
def test_keys_cannot_escape_the_root(store, key):
    with pytest.raises(StoreError) as raised:
        store.put_bytes(key, b"x")
    assert raised.value.code == "store.invalid_key"


def test_scoped_keys_reject_hostile_parts():
    with pytest.raises(StoreError):
        scoped_key(TENANT, "..", "x")
    with pytest.raises(StoreError):
        scoped_key(TENANT, "a/../../b")
    assert validate_key(scoped_key(TENANT, "a", "b.bin")) == f"tenants/{TENANT}/a/b.bin"


def test_a_failed_local_write_keeps_the_old_version_and_no_temp_file(tmp_path):
    store = LocalStore(tmp_path / "models")
    key = scoped_key(TENANT, "models", "m", "v1", "model.pt")
    store.put_bytes(key, b"good version")
    source = tmp_path / "new.bin"
    source.write_bytes(b"new version" * 1000)
    with mock.patch("livetalking.platform.store.os.fsync", side_effect=OSError("disk went away")):
        with pytest.raises(OSError):
            store.put_file(key, source)
    assert store.get_bytes(key) == b"good version"
    assert [p.name for p in (tmp_path / "models").rglob(".tmp-*")] == []


def test_s3_upload_of_a_large_file_is_complete_or_absent(s3_endpoint, tmp_path):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    store = S3Store(client, "lt-large", tmp_path / "scratch")
    store.ensure_bucket()
    big = tmp_path / "big.bin"
    big.write_bytes(b"\1" * (20 * 1024 * 1024))
    key = scoped_key(TENANT, "big.bin")
    stored = store.put_file(key, big)
    assert store.get_bytes(key, sha256=stored.sha256) == big.read_bytes()
    head = client.head_object(Bucket="lt-large", Key=key)
    assert head["Metadata"]["sha256"] == stored.sha256

    class Broken:
        def __init__(self, handle):
            self.handle, self.read_bytes = handle, 0

        def read(self, size=-1):
            if self.read_bytes > 12 * 1024 * 1024:
                raise OSError("client vanished mid-upload")
            data = self.handle.read(size)
            self.read_bytes += len(data)
            return data

    broken_key = scoped_key(TENANT, "broken.bin")
    with open(big, "rb") as handle, pytest.raises((StoreError, OSError)):
        store._upload(broken_key, Broken(handle), stored.sha256)
    assert not store.exists(broken_key)
    assert client.list_multipart_uploads(Bucket="lt-large").get("Uploads", []) == []


def test_s3_store_serves_concurrent_writers(s3_endpoint, tmp_path):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    store = S3Store(client, "lt-concurrent", tmp_path / "scratch")
    store.ensure_bucket()
    errors = []

    def write(i):
        try:
            store.put_bytes(scoped_key(TENANT, f"obj-{i}.bin"), bytes([i]) * 1000)
        except StoreError as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.list(f"tenants/{TENANT}")) == 8
