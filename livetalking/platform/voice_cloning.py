"""Starting and describing voice cloning (the voices:train task)."""

import uuid
from pathlib import Path

from pydantic import ConfigDict, Field
from sqlmodel import Session, SQLModel

from livetalking.engines.catalog import LANGUAGES, OFFLINE, check_engine, require_weights
from livetalking.errors import Conflict, InvalidInput
from livetalking.platform.personas import check_takes
from livetalking.platform.tables import ModelVersion, PersonaCreate, Task, Voice
from livetalking.platform.tasks import create_task, task_summary

TASK_TYPE = "voices:train"


def _engine_rules(schema: dict) -> None:
    """The schema names the engines and languages check_engine accepts, and that offline speaks only English."""
    schema["properties"]["engine"]["enum"] = list(LANGUAGES)
    schema["properties"]["language"]["enum"] = sorted({lang for langs in LANGUAGES.values() for lang in langs})
    schema["if"] = {"properties": {"engine": {"const": OFFLINE}}}
    schema["then"] = {"properties": {"language": {"enum": list(LANGUAGES[OFFLINE])}}}


class CloneOptions(SQLModel):
    """How to clone: the engine, the language, and what is said in each take (else whisper transcribes it)."""

    model_config = ConfigDict(json_schema_extra=_engine_rules)
    engine: str = Field(default=OFFLINE, max_length=20)
    language: str = Field(default="en", min_length=2, max_length=10)
    transcripts: dict[uuid.UUID, str] = {}
    fine_tune: bool = Field(default=False, description="xtts: fine-tune the GPT on the takes (a GPU job)",
                            strict=True)


class VoiceCreate(PersonaCreate, CloneOptions):
    pass


class CloneRequest(CloneOptions):
    """Clone again: more takes (added to the voice's), fine-tuning from the active version."""

    take_ids: list[uuid.UUID] = []


def queue_cloning(session: Session, voice: Voice, options: CloneOptions, actor: uuid.UUID | None, known_types,
                  max_attempts: int, models_root: Path, more_take_ids: list[uuid.UUID] = ()) -> Task:
    """Add takes to the voice and queue its cloning (refused at once if the engine's weights are missing)."""
    check_engine(options.engine, options.language)
    require_weights(options.engine, models_root, options.fine_tune)
    check_takes(session, Voice, voice.tenant_id, more_take_ids)
    voice.take_ids = list(dict.fromkeys([*voice.take_ids, *(str(t) for t in more_take_ids)]))
    if not voice.take_ids:
        raise Conflict("the voice has no takes to clone from; give take_ids", code="voice.no_takes")
    unknown = {str(t) for t in options.transcripts} - set(voice.take_ids)
    if unknown:
        raise InvalidInput(f"transcripts name takes the voice does not have: {sorted(unknown)}",
                           code="voice.transcript_take")
    payload = {"voice_id": str(voice.id), "engine": options.engine, "language": options.language,
               "transcripts": {str(k): v for k, v in options.transcripts.items()}, "fine_tune": options.fine_tune}
    task = create_task(session, voice.tenant_id, TASK_TYPE, payload, known_types=known_types, created_by=actor,
                       max_attempts=max_attempts)
    voice.task_id, voice.state = task.id, "queued"
    session.add(voice)
    return task


def describe_voice(session: Session, voice: Voice) -> dict:
    """The cloning task's progress and the active version's engine and metrics."""
    task = session.get(Task, voice.task_id) if voice.task_id else None
    active = session.get(ModelVersion, voice.active_version_id) if voice.active_version_id else None
    return {
        "task": None if task is None else {**task_summary(task), "result": task.result},
        "engine": active.backbone if active else None,
        "sample_rate": active.sample_rate if active else None,
    }
