"""Start the platform: local (or remote) Ray, Serve's HTTP proxy, the application; first run prints an admin key."""

import time
from dataclasses import dataclass

import ray
from ray import serve

from livetalking.platform.auth import bootstrap_admin
from livetalking.platform.db import make_engine, migrate, session_scope
from livetalking.serve_apps.app_builder import APP_NAME, build_app
from livetalking.settings import Settings


@dataclass(frozen=True)
class Started:
    """What a start produced: the URLs, the first admin key (first run only) and the seconds it took."""

    api_url: str
    dashboard_url: str | None
    admin_token: str | None
    seconds: float


def prepare_database(settings: Settings) -> str | None:
    """Migrate the schema; on a first run create the admin key and return it (it is never shown again)."""
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            return bootstrap_admin(session, settings.bootstrap_tenant)
    finally:
        engine.dispose()


def start(settings: Settings) -> Started:
    """Bring everything up and wait until the application is running."""
    began = time.monotonic()
    settings = settings.model_copy(update={"data_root": settings.data_root.resolve(),
                                           "models_root": settings.models_root.resolve()})
    token = prepare_database(settings)
    init_args = {"include_dashboard": True, "dashboard_host": settings.ray_dashboard_host,
                 "dashboard_port": settings.ray_dashboard_port}
    if settings.ray_address:
        context = ray.init(address=settings.ray_address)
    else:
        context = ray.init(num_cpus=settings.ray_num_cpus, **init_args)
    serve.start(http_options={"host": settings.http_host, "port": settings.http_port})
    serve.run(build_app(settings=settings), name=APP_NAME, route_prefix="/", blocking=False)
    dashboard = getattr(context, "dashboard_url", None)
    return Started(api_url=f"http://{settings.http_host}:{settings.http_port}",
                   dashboard_url=f"http://{dashboard}" if dashboard else None,
                   admin_token=token, seconds=time.monotonic() - began)


def stop() -> None:
    """Shut Serve and Ray down."""
    serve.shutdown()
    ray.shutdown()
