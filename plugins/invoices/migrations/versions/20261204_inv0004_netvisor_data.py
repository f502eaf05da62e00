"""invoice plugin: the customer's ISO country code, Netvisor's process history, sync errors

Revision ID: inv0004
Revises: inv0003
Create Date: 2026-12-04 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'inv0004'
down_revision: str | Sequence[str] | None = 'inv0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_country_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sync_error', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('netvisor_history', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    # Rows read before the code had its own column: a stored code, or Finland by name, is
    # known now; the next sync reads every queued invoice's code from Netvisor anyway.
    op.execute(
        "UPDATE invoice SET customer_country_code = UPPER(customer_country) "
        "WHERE LENGTH(customer_country) = 2"
    )
    op.execute(
        "UPDATE invoice SET customer_country_code = 'FI' "
        "WHERE LOWER(customer_country) IN ('finland', 'suomi')"
    )


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('netvisor_history')
        batch_op.drop_column('sync_error')
        batch_op.drop_column('customer_country_code')
