"""Streamed multipart uploads: parts go straight to disk under random names, never whole into memory."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from livetalking.errors import InvalidInput, PayloadTooLarge
from livetalking.platform.filenames import check_filename

MAX_FIELD_BYTES = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class ReceivedFile:
    """One file part, on disk."""

    field: str
    filename: str
    path: Path
    size: int = 0


@dataclass
class ReceivedForm:
    """Text fields and file parts of one multipart request."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, ReceivedFile] = field(default_factory=dict)

    def file(self, name: str) -> ReceivedFile:
        """The file part `name`, or InvalidInput."""
        if name not in self.files:
            raise InvalidInput(f"the form has no file part {name!r}", code="upload.missing_file")
        return self.files[name]


class _Collector:
    def __init__(self, dest: Path, max_bytes: int, form: ReceivedForm):
        self.dest, self.max_bytes, self.form = dest, max_bytes, form
        self.header_field = b""
        self.headers: dict[bytes, bytes] = {}
        self.current_header = b""
        self.handle = None
        self.text = bytearray()
        self.name = ""
        self.file_bytes = 0
        self.error: Exception | None = None

    def on_part_begin(self) -> None:
        self.headers, self.text, self.handle = {}, bytearray(), None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.current_header += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.current_header
        self.header_field, self.current_header = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if not self.name:
            raise InvalidInput("a form part has no name", code="upload.malformed")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            check_filename(filename)
            if self.name in self.form.files:
                raise InvalidInput(f"the file part {self.name!r} appears twice", code="upload.malformed")
            path = self.dest / f"upload-{uuid.uuid4().hex}"
            self.form.files[self.name] = ReceivedFile(self.name, filename, path)
            self.handle = open(path, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.handle is None:
            if len(self.text) + len(chunk) > MAX_FIELD_BYTES:
                raise InvalidInput(f"the form field {self.name!r} is longer than {MAX_FIELD_BYTES} bytes",
                                   code="upload.malformed")
            self.text += chunk
            return
        self.file_bytes += len(chunk)
        if self.file_bytes > self.max_bytes:
            raise PayloadTooLarge(f"the upload exceeds the limit of {self.max_bytes} bytes",
                                  details={"rule": "max upload size", "expected": self.max_bytes})
        self.handle.write(chunk)

    def on_part_end(self) -> None:
        if self.handle is None:
            self.form.fields[self.name] = self.text.decode("utf-8", "replace")
            return
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.form.files[self.name].size = self.handle.tell()
        self.handle.close()
        self.handle = None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


@asynccontextmanager
async def receive_multipart(request: Request, dest: Path, max_bytes: int) -> AsyncIterator[ReceivedForm]:
    """Parse a multipart body into `dest`; every file written is removed when the block exits."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise InvalidInput("the upload must be multipart/form-data", code="upload.malformed")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"the upload declares {int(declared)} bytes; the limit is {max_bytes}",
                              details={"rule": "max upload size", "measured": int(declared), "expected": max_bytes})
    dest.mkdir(parents=True, exist_ok=True)
    form = ReceivedForm()
    collector = _Collector(dest, max_bytes, form)
    callbacks = {name: getattr(collector, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end")}
    parser = MultipartParser(options[b"boundary"], callbacks)
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as e:
            raise InvalidInput(f"the multipart body is malformed: {e}", code="upload.malformed") from e
        if collector.handle is not None:
            raise InvalidInput("the upload ended before its last part was complete", code="upload.malformed")
        for received in form.files.values():
            if received.size == 0:
                raise InvalidInput(f"the file {received.filename!r} is empty (0 bytes)", code="upload.empty")
        yield form
    finally:
        collector.close()
        for received in form.files.values():
            received.path.unlink(missing_ok=True)
