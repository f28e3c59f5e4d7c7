"""Tenant-scoped lookups: another tenant's row is indistinguishable from a missing one."""

import uuid
from typing import TypeVar

from sqlmodel import Session

from livetalking.errors import NotFound

Row = TypeVar("Row")


def get_owned(session: Session, table: type[Row], tenant_id: uuid.UUID, row_id: uuid.UUID, noun: str) -> Row:
    """The row of `table` with this id if it belongs to the tenant, else NotFound with code `<noun>.not_found`."""
    row = session.get(table, row_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"{noun} {row_id} not found", code=f"{noun}.not_found")
    return row
