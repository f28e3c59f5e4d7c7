"""The prepared take's manifest as a typed, versioned schema: preparation writes it, training reads it."""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from livetalking.errors import InvalidInput
from livetalking.platform.store import ArtifactStore

MANIFEST_SCHEMA = 1
CHUNK_FILES = ("frames.mp4", "alpha.mkv", "layers.mkv", "tracks.npz", "stats.json")


class StoredFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = None


class PreparedChunk(BaseModel):
    """One chunk of consecutive frames and its files (frames, alpha, layers, crop_<size>, tracks, stats)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    index: int = Field(ge=0)
    start: int = Field(ge=0)
    frames: int = Field(ge=0)
    seconds: dict[str, float] = {}
    files: dict[str, StoredFile]


class Parameters(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    key: dict[str, Any]
    chunk_seconds: float
    warmup_frames: int
    crop_sizes: list[int]
    crop_template: list[list[float]]


class PreparedManifest(BaseModel):
    """Everything the prepared take is: versions, parameters, chunks, take-level files, quality report."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: int = MANIFEST_SCHEMA
    pipeline_version: str
    livetalking: str
    versions: dict[str, Any]
    take_id: str
    frames: int = Field(ge=0)
    fps: float = Field(gt=0)
    parameters: Parameters
    chunks: list[PreparedChunk]
    files: dict[str, StoredFile]
    quality: dict[str, Any]

    def chunk_file(self, chunk: PreparedChunk, name: str) -> StoredFile:
        """A chunk's file by name, or InvalidInput naming what is missing."""
        if name not in chunk.files:
            raise InvalidInput(f"chunk {chunk.index} of the prepared take has no {name}", code="avatar.not_prepared")
        return chunk.files[name]

    def take_file(self, name: str) -> StoredFile:
        if name not in self.files:
            raise InvalidInput(f"the prepared take has no {name} (a take without sound cannot drive lip sync)",
                               code="avatar.no_audio" if name.startswith("audio") else "avatar.not_prepared")
        return self.files[name]


def load_manifest(store: ArtifactStore, key: str, sha256: str) -> PreparedManifest:
    """Read and validate a stored manifest (sha256-checked)."""
    raw = json.loads(store.get_bytes(key, sha256))
    if raw.get("schema_version", MANIFEST_SCHEMA) != MANIFEST_SCHEMA:
        raise InvalidInput(f"the prepared take has manifest schema {raw.get('schema_version')}; this build reads "
                           f"{MANIFEST_SCHEMA}: prepare the avatar again", code="avatar.manifest_version")
    return PreparedManifest.model_validate(raw)
