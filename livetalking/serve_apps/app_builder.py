"""Wires the Serve application: the ingress (management API) and the task center."""

from pydantic import BaseModel

from livetalking.serve_apps.ingress import Ingress
from livetalking.serve_apps.task_center import TaskCenter
from livetalking.settings import Settings

APP_NAME = "livetalking"


class BuilderArgs(BaseModel):
    """Arguments `serve deploy` may pass; everything else comes from the LT_ environment."""

    ingress_replicas: int | None = None


def build_app(args: BuilderArgs | dict | None = None, settings: Settings | None = None):
    """The bound application graph, for `serve.run` and `serve deploy` (import path ...:build_app)."""
    args = BuilderArgs.model_validate(args or {})
    settings = settings or Settings()
    replicas = args.ingress_replicas or settings.ingress_replicas
    ingress = Ingress.options(num_replicas=replicas,
                              ray_actor_options={"num_cpus": settings.ingress_num_cpus})
    return ingress.bind(settings, TaskCenter.bind(settings))
