"""The FastAPI application: management API and Serve ingress, testable without Ray."""

from fastapi import FastAPI

from livetalking import __version__
from livetalking.platform.db import make_engine, migrate
from livetalking.platform.store import make_store
from livetalking.serve_apps.api import (routes_audit, routes_avatar_prep, routes_consents, routes_health, routes_keys,
                                        routes_models, routes_personas, routes_renders, routes_takes, routes_tasks,
                                        routes_uploads, routes_voices)
from livetalking.serve_apps.api.audit_middleware import AuditMiddleware
from livetalking.serve_apps.api.context import AppContext
from livetalking.serve_apps.api.contract import install_contract
from livetalking.serve_apps.api.errors import install_error_handlers
from livetalking.settings import Settings


def build_context(settings: Settings) -> AppContext:
    """Open the database (migrated to head) and the artifact store the settings name."""
    engine = make_engine(settings.effective_database_url, busy_timeout_s=settings.db_busy_timeout_s)
    migrate(engine)
    return AppContext(settings=settings, engine=engine, store=make_store(settings))


def create_app(context: AppContext) -> FastAPI:
    """The API over one context."""
    app = FastAPI(title="LiveTalking", version=__version__,
                  description="Management API of the LiveTalking digital-human platform.")
    app.state.context = context
    install_error_handlers(app)
    install_contract(app, context.settings)
    for router in (routes_health.router, routes_keys.router, routes_consents.router, routes_uploads.router,
                   routes_takes.router, routes_models.router, routes_avatar_prep.router, routes_personas.avatars_router,
                   routes_personas.voices_router, routes_voices.router, routes_renders.router, routes_tasks.router,
                   routes_audit.router):
        app.include_router(router)
    app.add_middleware(AuditMiddleware, engine_getter=lambda: context.engine)
    return app
