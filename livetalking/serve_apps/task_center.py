"""Serve deployment that owns the task runner (one replica per cluster)."""

from ray import serve

from livetalking.platform.db import make_engine
from livetalking.serve_apps.task_runner import RayExecutor, TaskRunner
from livetalking.settings import Settings


@serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 0.1})
class TaskCenter:
    """Claims queued tasks and runs each as a Ray task."""

    def __init__(self, settings: Settings):
        self.runner = TaskRunner(settings, make_engine(settings.effective_database_url), RayExecutor(settings))
        self.runner.start()

    def wake(self) -> None:
        """A task was queued: look now."""
        self.runner.wake()

    def __del__(self):
        self.runner.stop()
