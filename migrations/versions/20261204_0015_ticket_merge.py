"""tickets: merged_into_id, the ticket a merged ticket now lives in

A merged ticket keeps its row (its number stays findable and shows where it went) and
points to the ticket it was merged into; mail that still names it follows the pointer.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-04 19:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_ticket_merged_into_id', 'ticket', ['merged_into_id'], ['id']
        )
        batch_op.create_index('ix_ticket_merged_into_id', ['merged_into_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_merged_into_id')
        batch_op.drop_constraint('fk_ticket_merged_into_id', type_='foreignkey')
        batch_op.drop_column('merged_into_id')
