"""The model card: the unified schema every avatar and voice model version is registered with."""

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from livetalking.platform.tables import NO_NUL, JSONInt, ModelKind, json_int

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"


class ArtifactFormat(StrEnum):
    pt = "pt"
    torchscript = "torchscript"
    onnx = "onnx"


FILE_NAMES = {ArtifactFormat.pt: "model.pt", ArtifactFormat.torchscript: "model.torchscript.pt",
              ArtifactFormat.onnx: "model.onnx"}


class ArtifactRef(BaseModel):
    """An artifact already in the store (written by a training job), or the expected hash of an upload."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


VOICE_NEEDS_RATE = {"anyOf": [{"properties": {"kind": {"const": "avatar"}}},
                              {"required": ["sample_rate"], "properties": {"sample_rate": {"type": "integer"}}}]}


class ModelCard(BaseModel):
    """What a model version is; validated before anything is stored."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=VOICE_NEEDS_RATE)
    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
    backbone: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    kind: ModelKind
    target_id: uuid.UUID | None = None
    sample_rate: json_int(gt=0, le=192000) | None = None
    input_shape: list[JSONInt] = Field(min_length=1, max_length=8, json_schema_extra={"items": {"anyOf": [
        {"type": "integer", "minimum": 1}, {"type": "integer", "const": -1}]}})
    metrics: dict[str, float] = {}
    config: dict[str, Any] = {}
    parent_version_id: uuid.UUID | None = None
    artifacts: dict[ArtifactFormat, ArtifactRef] = {}

    @field_validator("input_shape")
    @classmethod
    def _dims(cls, shape: list[int]) -> list[int]:
        if any(d == 0 or d < -1 for d in shape):
            raise ValueError("input_shape dimensions must be positive, or -1 for a dynamic axis")
        return shape

    @model_validator(mode="after")
    def _voice_rate(self) -> "ModelCard":
        if self.kind is ModelKind.voice and self.sample_rate is None:
            raise ValueError("a voice model needs sample_rate")
        return self
