"""image takes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000

The take kind gains `image`. SQLite stores the kind as text without a check, so only PostgreSQL's
enum type changes; PostgreSQL cannot drop an enum value, so a downgrade keeps it.
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE takekind ADD VALUE IF NOT EXISTS 'image'")


def downgrade() -> None:
    pass
