"""Serve the API with plain uvicorn (no Ray) for benchmarks; prints a fresh admin key on its first line."""

import uvicorn

from livetalking.platform.auth import create_key, ensure_tenant
from livetalking.platform.db import session_scope
from livetalking.platform.tables import Role
from livetalking.serve_apps.api.app import build_context, create_app
from livetalking.settings import Settings


def main() -> None:
    settings = Settings()
    context = build_context(settings)
    with session_scope(context.engine) as session:
        tenant = ensure_tenant(session, "bench")
        _, token = create_key(session, tenant.id, Role.admin, "bench")
    print(token, flush=True)
    uvicorn.run(create_app(context), host=settings.http_host, port=settings.http_port, log_level="warning")


if __name__ == "__main__":
    main()
