"""snooze and spam: a ticket's snooze time and spam mark, and blocked senders

``ticket.snoozed_until`` hides a ticket from the open lists while it lies ahead and marks
it as back from snooze once it has passed (until an agent acts); ``ticket.spam`` puts it in
the Spam view. ``sender_block`` holds the addresses and domains whose mail goes there.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-04 19:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0016'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('snoozed_until', helpdesk.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column('spam', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Partial: the inbox's "not spam, not snoozed" lists keep to their own indexes.
    op.create_index(
        'ix_ticket_snoozed',
        'ticket',
        ['snoozed_until'],
        sqlite_where=sa.text('snoozed_until IS NOT NULL'),
        postgresql_where=sa.text('snoozed_until IS NOT NULL'),
    )
    op.create_index(
        'ix_ticket_spam',
        'ticket',
        ['last_message_at', 'id'],
        sqlite_where=sa.text('spam = 1'),
        postgresql_where=sa.text('spam = true'),
    )
    op.create_table(
        'sender_block',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', helpdesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['agent.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('value'),
    )


def downgrade() -> None:
    op.drop_table('sender_block')
    op.drop_index('ix_ticket_spam', table_name='ticket')
    op.drop_index('ix_ticket_snoozed', table_name='ticket')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('spam')
        batch_op.drop_column('snoozed_until')
