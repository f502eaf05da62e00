"""server-side login sessions, API token expiry, an atomic login throttle

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agent_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agent_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_session_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_agent_session_token_sha256'), ['token_sha256'], unique=True
        )

    op.create_table('login_throttle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('window_start', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.add_column(
        'api_token',
        sa.Column('expires_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column('api_token', 'expires_at')
    op.drop_table('login_throttle')
    with op.batch_alter_table('agent_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_session_token_sha256'))
        batch_op.drop_index(batch_op.f('ix_agent_session_agent_id'))
    op.drop_table('agent_session')
