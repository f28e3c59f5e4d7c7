"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 20:59:09.679698
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import livetalking.platform.timeutil


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('min_video_short_side', sa.Integer(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('api_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'operator', 'admin', name='role'), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prefix')
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('consent',
    sa.Column('subject_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('licence', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expires_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('model_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('backbone', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sa.Enum('avatar', 'voice', name='modelkind'), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('input_shape', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('formats', sa.JSON(), nullable=False),
    sa.Column('artifacts', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('candidate', 'active', 'rejected', 'archived', name='modelstatus'), nullable=False),
    sa.Column('parent_version_id', sa.Uuid(), nullable=True),
    sa.Column('replaces_version_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'name', 'version', name='uq_model_version_name')
    )
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_version_backbone'), ['backbone'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_version_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_model_version_listing', ['tenant_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_version_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_version_target_id'), ['target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_version_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted', name='taskstate'), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('checkpoint', sa.JSON(), nullable=False),
    sa.Column('ray_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('runner_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_queue', ['state', 'priority', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_type'), ['type'], unique=False)

    op.create_table('avatar',
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('active_version_id', sa.Uuid(), nullable=True),
    sa.Column('model_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('take_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['active_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('avatar', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_avatar_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('live_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('avatar_version_id', sa.Uuid(), nullable=True),
    sa.Column('voice_version_id', sa.Uuid(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('started_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['avatar_version_id'], ['model_version.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.ForeignKeyConstraint(['voice_version_id'], ['model_version.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('take',
    sa.Column('face_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sa.Enum('video', 'audio', name='takekind'), nullable=False),
    sa.Column('mic_profile', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('original_filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('container', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('codec', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('fps', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('chroma_info', sa.JSON(), nullable=True),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('validation', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_take_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_take_face_id'), ['face_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_take_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('voice',
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('active_version_id', sa.Uuid(), nullable=True),
    sa.Column('model_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('take_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', livetalking.platform.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['active_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('voice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_tenant_id'))

    op.drop_table('voice')
    with op.batch_alter_table('take', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_take_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_take_face_id'))
        batch_op.drop_index(batch_op.f('ix_take_consent_id'))

    op.drop_table('take')
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_live_session_state'))

    op.drop_table('live_session')
    with op.batch_alter_table('avatar', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_avatar_tenant_id'))

    op.drop_table('avatar')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_type'))
        batch_op.drop_index(batch_op.f('ix_task_tenant_id'))
        batch_op.drop_index('ix_task_queue')

    op.drop_table('task')
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_version_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_model_version_target_id'))
        batch_op.drop_index(batch_op.f('ix_model_version_status'))
        batch_op.drop_index('ix_model_version_listing')
        batch_op.drop_index(batch_op.f('ix_model_version_kind'))
        batch_op.drop_index(batch_op.f('ix_model_version_backbone'))

    op.drop_table('model_version')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_tenant_id'))

    op.drop_table('consent')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_tenant_id'))

    op.drop_table('api_key')
    op.drop_table('tenant')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_request_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
