"""invoice plugin: customer names stored for search without accents (makinen finds Mäkinen)

Revision ID: inv0007
Revises: inv0005
Create Date: 2026-12-04 17:10:00.000000
"""
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'inv0007'
down_revision: str | Sequence[str] | None = 'inv0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The folding as this revision knows it (a migration does not import the code it upgrades).
def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _refold(fold) -> None:
    bind = op.get_bind()
    invoice = sa.table(
        'invoice', sa.column('id', sa.Integer), sa.column('customer_name', sa.String),
        sa.column('customer_name_search', sa.String),
    )
    rows = bind.execute(sa.select(invoice.c.id, invoice.c.customer_name)).all()
    for row in rows:
        bind.execute(
            invoice.update().where(invoice.c.id == row.id)
            .values(customer_name_search=fold(row.customer_name or ''))
        )


def upgrade() -> None:
    _refold(_key)


def downgrade() -> None:
    _refold(lambda text: text.strip().casefold())
