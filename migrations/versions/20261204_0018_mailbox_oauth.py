"""mailboxes that sign in with OAuth 2.0 (XOAUTH2): mailbox.auth and mailbox_oauth

Microsoft 365 and Google no longer take passwords for IMAP and SMTP. A mailbox now says
how it signs in (``auth``: password or xoauth2, for IMAP and SMTP alike), and an xoauth2
mailbox has one ``mailbox_oauth`` row: its OAuth client, the grant (refresh token and
cached access token, encrypted with Fernet), the account that signed in, and whether the
grant still works.

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-04 19:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0018'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mailbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('auth', sa.String(length=16), nullable=False, server_default='password')
        )
    op.create_table('mailbox_oauth',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('client_secret_sealed', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('authorize_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('token_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('refresh_token_sealed', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('access_token_sealed', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column(
        'access_token_expires_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True
    ),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('status_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailbox.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mailbox_oauth', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_mailbox_oauth_mailbox_id'), ['mailbox_id'], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table('mailbox_oauth', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_oauth_mailbox_id'))
    op.drop_table('mailbox_oauth')
    with op.batch_alter_table('mailbox', schema=None) as batch_op:
        batch_op.drop_column('auth')
