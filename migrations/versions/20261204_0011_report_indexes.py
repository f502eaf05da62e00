"""reports: indexes for counting mail, calls and tickets by time (the Reports page)

The reports count messages by kind and time and tickets by creation time over up to a
year; without these both databases read every message (the bodies with them) and every
ticket. The message index covers what the volume and per-agent counts read; the second
one gives each ticket's first incoming mail and first reply with one seek each.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-04 17:20:00.000000
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0011'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_message_kind_created',
        'message',
        ['kind', 'created_at', 'mailbox_id', 'author_id', 'ticket_id', 'delivery_status'],
    )
    op.create_index(
        'ix_message_ticket_kind_created',
        'message',
        ['ticket_id', 'kind', 'created_at', 'author_id', 'delivery_status'],
    )
    op.create_index('ix_ticket_created', 'ticket', ['created_at', 'mailbox_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_ticket_created', table_name='ticket')
    op.drop_index('ix_message_ticket_kind_created', table_name='message')
    op.drop_index('ix_message_kind_created', table_name='message')
