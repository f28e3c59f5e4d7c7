"""FastAPI dependencies as Annotated aliases: the app context, a DB session, the caller and role guards."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from livetalking.platform.auth import Principal, authenticate
from livetalking.platform.db import session_scope
from livetalking.platform.tables import Role
from livetalking.serve_apps.api.context import AppContext


def get_context(request: Request) -> AppContext:
    return request.app.state.context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    with session_scope(context.engine) as session:
        yield session


# Function scope: the transaction commits (or fails with its own error) before the response is sent, so a client
# that reads right after a 201 finds what it created. A route that writes also commits itself, in the thread that
# wrote: the database's write lock is then never held across a hop to another worker thread (a hop waits for a
# free thread, and under load every free thread may be waiting for that lock).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, context: ContextDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    with session_scope(context.engine) as session:
        principal = authenticate(session, token.strip() if scheme.lower() == "bearer" else None)
    request.state.principal = principal
    return principal


def _role(role: Role):
    def guard(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    guard.min_role = role  # read by the OpenAPI contract (403 where the role is above viewer)
    return guard


Viewer = Annotated[Principal, Depends(_role(Role.viewer))]
Operator = Annotated[Principal, Depends(_role(Role.operator))]
Admin = Annotated[Principal, Depends(_role(Role.admin))]
