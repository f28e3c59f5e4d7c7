"""Artifact store: one interface, local folders or S3; atomic writes, sha256-verified reads, tenant-scoped keys."""

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from livetalking.errors import IntegrityFailure, NotFound, StoreError
from livetalking.settings import Settings

CHUNK = 1024 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class StoredObject:
    """What a write produced: the key, its content hash and size."""

    key: str
    sha256: str
    size: int


def scoped_key(tenant_id: uuid.UUID | str, *parts: str) -> str:
    """A key inside a tenant's namespace; every part is checked, so no key can escape it."""
    key = "/".join(["tenants", str(tenant_id), *parts])
    return validate_key(key)


def validate_key(key: str) -> str:
    """Reject absolute keys, `..`, empty segments and characters outside a safe set."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise StoreError(f"invalid artifact key {key!r}", code="store.invalid_key")
    for segment in key.split("/"):
        if segment in (".", "..") or not _SEGMENT.match(segment):
            raise StoreError(f"invalid artifact key segment {segment!r} in {key!r}", code="store.invalid_key")
    if len(key) > 500:
        raise StoreError("artifact key longer than 500 characters", code="store.invalid_key")
    return key


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactStore(Protocol):
    """The operations every backend provides."""

    def put_file(self, key: str, source: Path) -> StoredObject: ...

    def put_bytes(self, key: str, data: bytes) -> StoredObject: ...

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes: ...

    @contextmanager
    def open_local(self, key: str, sha256: str | None = None) -> Iterator[Path]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str) -> list[str]: ...


def _verify(key: str, actual: str, expected: str | None) -> None:
    if expected is not None and actual != expected:
        raise IntegrityFailure(f"artifact {key} has sha256 {actual}, expected {expected}")


class LocalStore:
    """Artifacts as files under one root folder."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise StoreError(f"artifact key {key!r} escapes the store", code="store.invalid_key")
        return path

    def put_file(self, key: str, source: Path) -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return StoredObject(key, digest.hexdigest(), size)

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
        try:
            return self.put_file(key, Path(tmp.name))
        finally:
            Path(tmp.name).unlink(missing_ok=True)

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"artifact {key} does not exist", code="store.not_found") from e
        _verify(key, hashlib.sha256(data).hexdigest(), sha256)
        return data

    @contextmanager
    def open_local(self, key: str, sha256: str | None = None) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"artifact {key} does not exist", code="store.not_found")
        if sha256 is not None:
            _verify(key, sha256_file(path), sha256)
        yield path

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Store:
    """Artifacts as objects in one S3 bucket; uploads either complete or leave nothing."""

    def __init__(self, client, bucket: str, scratch: Path):
        self.client = client
        self.bucket = bucket
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._call(self.client.create_bucket, Bucket=self.bucket)

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(f"artifact {kwargs.get('Key')} does not exist", code="store.not_found") from e
            raise StoreError(f"S3 {fn.__name__} failed: {e}") from e
        except BotoCoreError as e:
            raise StoreError(f"S3 {fn.__name__} failed: {e}") from e

    def put_file(self, key: str, source: Path) -> StoredObject:
        validate_key(key)
        digest = sha256_file(source)
        size = source.stat().st_size
        with open(source, "rb") as body:
            self._upload(key, body, digest)
        return StoredObject(key, digest, size)

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        validate_key(key)
        digest = hashlib.sha256(data).hexdigest()
        self._call(self.client.put_object, Bucket=self.bucket, Key=key, Body=data, Metadata={"sha256": digest})
        return StoredObject(key, digest, len(data))

    def _upload(self, key: str, body: BinaryIO, digest: str) -> None:
        try:
            # upload_fileobj uses multipart for large files and aborts the upload on failure,
            # so the object is either complete or absent.
            self.client.upload_fileobj(body, self.bucket, key, ExtraArgs={"Metadata": {"sha256": digest}})
        except (ClientError, BotoCoreError) as e:
            raise StoreError(f"S3 upload of {key} failed: {e}") from e

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        validate_key(key)
        data = self._call(self.client.get_object, Bucket=self.bucket, Key=key)["Body"].read()
        _verify(key, hashlib.sha256(data).hexdigest(), sha256)
        return data

    @contextmanager
    def open_local(self, key: str, sha256: str | None = None) -> Iterator[Path]:
        validate_key(key)
        fd, name = tempfile.mkstemp(prefix="s3-", dir=self.scratch)
        os.close(fd)
        path = Path(name)
        try:
            try:
                self.client.download_file(self.bucket, key, str(path))
            except ClientError as e:
                raise NotFound(f"artifact {key} does not exist", code="store.not_found") from e
            if sha256 is not None:
                _verify(key, sha256_file(path), sha256)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self._call(self.client.head_object, Bucket=self.bucket, Key=key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        self._call(self.client.delete_object, Bucket=self.bucket, Key=key)

    def list(self, prefix: str) -> list[str]:
        validate_key(prefix)
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix.rstrip("/") + "/"):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as e:
            raise StoreError(f"S3 list of {prefix} failed: {e}") from e
        return sorted(keys)


def make_store(settings: Settings) -> ArtifactStore:
    """The store the settings ask for."""
    if settings.store_backend == "local":
        return LocalStore(settings.models_root)
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}),
    )
    store = S3Store(client, settings.s3_bucket, settings.data_root / "scratch")
    store.ensure_bucket()
    return store

