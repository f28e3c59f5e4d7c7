"""The engine of a registered voice version, loaded once per process and kept for the next request."""

import threading
from collections import OrderedDict

from livetalking.engines.base import VoiceEngine
from livetalking.errors import Conflict
from livetalking.platform.store import ArtifactStore
from livetalking.platform.tables import ModelVersion
from livetalking.registry.service import stored_files
from livetalking.settings import Settings

CACHED = 4
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _load(model: ModelVersion, store: ArtifactStore, settings: Settings) -> VoiceEngine:
    files = stored_files(model)
    if model.backbone == "offline":
        from livetalking.engines.voice_bundle import engine_from_files

        return engine_from_files(files, store)
    if model.backbone == "xtts":
        from livetalking.engines.xtts_engine import engine_from_files as xtts_from_files

        return xtts_from_files(files, store, model.config, settings.models_root, settings.data_root / "cache")
    raise Conflict(f"model {model.name} {model.version} has backbone {model.backbone!r}, which no engine serves",
                   code="voice.engine_unavailable")


def engine_for(model: ModelVersion, store: ArtifactStore, settings: Settings) -> VoiceEngine:
    """The engine of this version (the last few stay loaded)."""
    with _lock:
        if model.id in _cache:
            _cache.move_to_end(model.id)
            return _cache[model.id]
    engine = _load(model, store, settings)
    with _lock:
        _cache[model.id] = engine
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return engine
