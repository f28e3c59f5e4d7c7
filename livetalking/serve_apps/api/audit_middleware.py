"""ASGI middleware: a request id on every request, and an audit event for every mutating one."""

import re
import uuid

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livetalking.platform.audit import outcome_of, record_event
from livetalking.platform.db import retrying_when_busy
from livetalking.platform.tables import AuditEvent

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AuditMiddleware:
    """Wraps the app; reads the caller the auth dependency left in scope['state']."""

    def __init__(self, app: ASGIApp, engine_getter):
        self.app = app
        self.engine_getter = engine_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        supplied = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        state["request_id"] = request_id
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["method"] in MUTATING:
                # In a worker thread: a write that waits for the database lock must not stop the event loop
                # (it would stall every request, the lock holder's included).
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(self._audit, scope, state, request_id, status["code"])

    def _audit(self, scope: Scope, state: dict, request_id: str, status_code: int) -> None:
        principal = state.get("principal")
        route = scope.get("route")
        template = getattr(route, "path_format", None) or scope["path"]
        params = scope.get("path_params") or {}
        event = AuditEvent(
            request_id=request_id,
            tenant_id=principal.tenant_id if principal else None,
            actor=str(principal.key_id) if principal else "anonymous",
            role=principal.role.value if principal else None,
            action=f"{scope['method']} {template}",
            method=scope["method"],
            path=scope["path"][:500],
            target=",".join(str(v) for v in params.values())[:200] or None,
            status_code=status_code,
            outcome=outcome_of(status_code),
        )
        # After the response: the event waits out a busy database (as a task would) rather than being lost.
        retrying_when_busy(lambda: record_event(self.engine_getter(), event))
