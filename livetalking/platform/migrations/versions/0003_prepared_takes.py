"""prepared takes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 21:51:50.572942
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import livetalking.platform.timeutil


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prepared_take',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('avatar_id', sa.Uuid(), nullable=False),
    sa.Column('take_id', sa.Uuid(), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=True),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('quality', sa.JSON(), nullable=False),
    sa.Column('manifest_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('manifest_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('preview_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['avatar_id'], ['avatar.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['take_id'], ['take.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('avatar_id', 'take_id', name='uq_prepared_take')
    )
    with op.batch_alter_table('prepared_take', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prepared_take_avatar_id'), ['avatar_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prepared_take_take_id'), ['take_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prepared_take_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('avatar', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Uuid(), nullable=True))

    with op.batch_alter_table('voice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Uuid(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('voice', schema=None) as batch_op:
        batch_op.drop_column('task_id')

    with op.batch_alter_table('avatar', schema=None) as batch_op:
        batch_op.drop_column('task_id')

    with op.batch_alter_table('prepared_take', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prepared_take_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_prepared_take_take_id'))
        batch_op.drop_index(batch_op.f('ix_prepared_take_avatar_id'))

    op.drop_table('prepared_take')
