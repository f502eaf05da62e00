"""outbox: a lease on each claim (claimed_until), renewed while the mail is sent

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.models.base


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'outbound_mail',
        sa.Column('claimed_until', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    )
    # Until now a claim counted as stale ten minutes after claimed_at: rows claimed as the
    # upgrade runs keep exactly that long.
    if op.get_bind().dialect.name == 'sqlite':
        until = "datetime(claimed_at, '+10 minutes')"
    else:
        until = "claimed_at + interval '10 minutes'"
    op.execute(f"UPDATE outbound_mail SET claimed_until = {until} WHERE claimed_by IS NOT NULL")


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place: no copy of the table is needed.
    op.drop_column('outbound_mail', 'claimed_until')
