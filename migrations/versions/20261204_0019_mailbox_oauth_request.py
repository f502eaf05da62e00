"""mailbox_oauth_request: the web connect flow's state, kept on the server

An admin's "Connect with Microsoft / Google" sends the browser to the provider with a
state and a PKCE challenge; the answer comes back to another request. What that answer
must match (the state's SHA-256, the sealed code verifier, the admin's login session,
the expiry, single use) and the client settings waiting for a working grant live in
this table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 20:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailbox_oauth_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('agent_session_id', sa.Integer(), nullable=False),
    sa.Column('code_verifier_sealed', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('client_secret_sealed', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('authorize_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('token_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('redirect_uri', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ),
    sa.ForeignKeyConstraint(['agent_session_id'], ['agent_session.id'], ),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailbox.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mailbox_oauth_request', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_mailbox_oauth_request_mailbox_id'), ['mailbox_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_mailbox_oauth_request_state_sha256'), ['state_sha256'], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table('mailbox_oauth_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_oauth_request_state_sha256'))
        batch_op.drop_index(batch_op.f('ix_mailbox_oauth_request_mailbox_id'))
    op.drop_table('mailbox_oauth_request')
