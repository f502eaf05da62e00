"""tags on tickets and saved inbox views

Tags are unique by their case-folded name (``key``), so "Lasku" and "lasku" are one tag on
both databases without a functional index. ``ticket_tag`` is keyed by ticket first (a
ticket's tags) with a second index by tag (the inbox's tag filter).

Revision ID: 0013
Revises: 0015 (chained after t15-merge's 0015, merged into this branch; 0011 on main)
Create Date: 2026-12-04 19:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0013'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('colour', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('ticket_tag',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'tag_id')
    )
    op.create_index('ix_ticket_tag_tag', 'ticket_tag', ['tag_id', 'ticket_id'])
    op.create_table('saved_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_saved_view_agent_id', 'saved_view', ['agent_id'])


def downgrade() -> None:
    op.drop_index('ix_saved_view_agent_id', table_name='saved_view')
    op.drop_table('saved_view')
    op.drop_index('ix_ticket_tag_tag', table_name='ticket_tag')
    op.drop_table('ticket_tag')
    op.drop_table('tag')
