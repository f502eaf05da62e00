"""ticket clocks: first response and resolution stored per ticket, in business seconds

The reports measured each ticket's first response and resolution from its thread and
the audit log on every request (three subqueries a ticket, then business hours in
Python): over a year at 100,000 tickets that took over a second. The moments and their
business-hour durations are now kept on the ticket when they happen
(``helpdesk.services.ticket_clocks``); this revision adds the columns, computes them for
the tickets already stored (``ticket_clocks.backfill``: three UPDATEs with the same
subqueries as the old report, then the durations in batches) and widens the reports'
ticket index so that it covers the stored numbers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base


revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ('first_incoming_at', 'first_response_at', 'resolved_at')
SECONDS = ('first_response_seconds', 'resolution_seconds')


def upgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        for name in MOMENTS:
            batch.add_column(
                sa.Column(name, helpdesk.models.base.UTCDateTime(timezone=True), nullable=True)
            )
        for name in SECONDS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    # The backfill reads the tables through today's models: imported here, not at the top,
    # so that loading the revision list does not need them.
    from helpdesk.services import ticket_clocks

    ticket_clocks.backfill(op.get_bind())
    op.drop_index('ix_ticket_created', table_name='ticket')
    op.create_index(
        'ix_ticket_created',
        'ticket',
        ['created_at', 'mailbox_id', 'status', 'first_response_seconds', 'resolution_seconds'],
    )


def downgrade() -> None:
    op.drop_index('ix_ticket_created', table_name='ticket')
    op.create_index('ix_ticket_created', 'ticket', ['created_at', 'mailbox_id', 'status'])
    with op.batch_alter_table('ticket') as batch:
        for name in MOMENTS + SECONDS:
            batch.drop_column(name)
