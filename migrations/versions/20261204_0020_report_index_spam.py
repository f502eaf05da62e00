"""report index covers spam: the reports leave spam tickets out and still read the index only

The reports (volume, backlog, response times) leave spam tickets out. Their ticket index
(``ix_ticket_created``) held every column they read but ``spam``, so excluding spam made
each ticket of the period a table read; with ``spam`` at its end the index covers them
again on both databases.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:50:00.000000
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ['created_at', 'mailbox_id', 'status', 'first_response_seconds', 'resolution_seconds']


def upgrade() -> None:
    op.drop_index('ix_ticket_created', table_name='ticket')
    op.create_index('ix_ticket_created', 'ticket', [*BEFORE, 'spam'])


def downgrade() -> None:
    op.drop_index('ix_ticket_created', table_name='ticket')
    op.create_index('ix_ticket_created', 'ticket', BEFORE)
