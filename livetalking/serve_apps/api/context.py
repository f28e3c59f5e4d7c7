"""What every request handler shares: settings, database engine, artifact store, and a hook for new tasks."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from livetalking.platform.store import ArtifactStore
from livetalking.settings import Settings
from livetalking.platform.task_types import TASK_TYPES


@dataclass
class AppContext:
    """Built once per app (one per Serve replica)."""

    settings: Settings
    engine: Engine
    store: ArtifactStore
    task_types: frozenset[str] = frozenset(TASK_TYPES)
    on_task_queued: Callable[[], None] = field(default=lambda: None)
