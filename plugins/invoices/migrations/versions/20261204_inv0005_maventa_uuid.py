"""invoice plugin: the uuid a dispatch gives its Maventa upload

Revision ID: inv0005
Revises: inv0004
Create Date: 2026-12-04 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'inv0005'
down_revision: str | Sequence[str] | None = 'inv0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invoice_dispatch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('maventa_uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoice_dispatch', schema=None) as batch_op:
        batch_op.drop_column('maventa_uuid')
