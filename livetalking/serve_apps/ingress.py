"""Serve deployment whose ASGI app is the management API."""

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from livetalking.serve_apps.api.app import build_context, create_app
from livetalking.settings import Settings


@serve.deployment(ray_actor_options={"num_cpus": 0.25})
@serve.ingress()
class Ingress:
    """FastAPI behind Serve's HTTP proxy; new tasks wake the task center."""

    def __init__(self, settings: Settings, task_center: DeploymentHandle):
        self.context = build_context(settings)
        self.context.on_task_queued = lambda: task_center.wake.remote()

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self.context)
