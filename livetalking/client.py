"""A small HTTP client of the management API, used by the CLI."""

import json
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


class _ProgressReader:
    def __init__(self, handle, on_read: Callable[[int], None]):
        self.handle, self.on_read = handle, on_read

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.on_read(len(data))
        return data


class Client:
    """Calls the API with one key."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = 600.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http", response.text[:500]) from None
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def upload(self, path: str, files: dict[str, Path], fields: dict[str, str],
               on_read: Callable[[int], None] = lambda n: None) -> Any:
        """POST a multipart form with files streamed from disk."""
        handles = []
        try:
            parts = {}
            for name, source in files.items():
                handle = open(source, "rb")
                handles.append(handle)
                parts[name] = (source.name, _ProgressReader(handle, on_read))
            return self.request("POST", path, data=fields, files=parts)
        finally:
            for handle in handles:
                handle.close()


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)
