"""A small HTTP client of the management API, used by the CLI."""

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from livetalking.errors import LiveTalkingError


class ApiError(LiveTalkingError):
    """The API answered with an error."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}", code=code)
        self.status = status


class Client:
    """Calls the API with one key."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = 600.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    @staticmethod
    def _check(response) -> None:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http", response.text[:500]) from None

    def request(self, method: str, path: str, **kwargs) -> Any:
        response = self.http.request(method, path, **kwargs)
        self._check(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def save(self, method: str, path: str, dest: Path, **kwargs) -> dict[str, str]:
        """Stream a binary answer into `dest` (written to a temporary name, renamed when complete); its headers."""
        partial = dest.with_name(dest.name + ".part")
        with self.http.stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            with open(partial, "wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
        partial.replace(dest)
        return dict(response.headers)

    def upload(self, path: str, files: dict[str, Path], fields: dict[str, str]) -> Any:
        """POST a multipart form with files streamed from disk."""
        handles = []
        try:
            parts = {}
            for name, source in files.items():
                handle = open(source, "rb")
                handles.append(handle)
                parts[name] = (source.name, handle)
            return self.request("POST", path, data=fields, files=parts)
        finally:
            for handle in handles:
                handle.close()


    def open_upload(self, file: Path) -> dict:
        """Start a resumable upload of `file` (its sha256 is checked when the server assembles it)."""
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
        return self.request("POST", "/api/v1/uploads", json={
            "filename": file.name, "size_bytes": file.stat().st_size, "sha256": digest.hexdigest()})

    def send_missing(self, file: Path, upload_id: str, on_sent: Callable[[int], None] = lambda n: None,
                     attempts: int = 5) -> None:
        """Send the chunks the server does not have yet, each retried on connection errors."""
        status = self.request("GET", f"/api/v1/uploads/{upload_id}")
        chunk = status["chunk_bytes"]
        on_sent(status["size_bytes"] - sum(min(chunk, status["size_bytes"] - i * chunk) for i in status["missing"]))
        with open(file, "rb") as handle:
            for index in status["missing"]:
                handle.seek(index * chunk)
                data = handle.read(chunk)
                self._put_chunk(upload_id, index, data, attempts)
                on_sent(len(data))

    def _put_chunk(self, upload_id: str, index: int, data: bytes, attempts: int) -> None:
        for attempt in range(attempts):
            try:
                self.request("PUT", f"/api/v1/uploads/{upload_id}/chunks/{index}", content=data,
                             headers={"content-type": "application/octet-stream"})
                return
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
                time.sleep(min(2**attempt, 10))


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)
