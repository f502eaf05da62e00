"""invoice plugin: a lease on each dispatch claim (claimed_until), renewed during long steps

Revision ID: inv0003
Revises: inv0002
Create Date: 2026-12-01 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helpdesk.plugin_api import UTCDateTime


revision: str = 'inv0003'
down_revision: str | Sequence[str] | None = 'inv0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'invoice_dispatch',
        sa.Column('claimed_until', UTCDateTime(timezone=True), nullable=True),
    )
    # Until now a claim counted as stale ten minutes after claimed_at: dispatches claimed as
    # the upgrade runs keep exactly that long.
    if op.get_bind().dialect.name == 'sqlite':
        until = "datetime(claimed_at, '+10 minutes')"
    else:
        until = "claimed_at + interval '10 minutes'"
    op.execute(f"UPDATE invoice_dispatch SET claimed_until = {until} WHERE claimed_by IS NOT NULL")


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place: no copy of the table is needed.
    op.drop_column('invoice_dispatch', 'claimed_until')
