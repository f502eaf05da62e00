"""notifications: following tickets, @mentions in notes, notifications per agent

``notification`` is counted for the unread badge on every page, hence the index that
starts with the agent and the read time. Agents get ``notify_email`` ('off' for those
there already: nobody starts receiving mail without asking for it).

Revision ID: 0014
Revises: 0017
Create Date: 2026-12-04 19:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import helpdesk.models.base


revision: str = '0014'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ticket_follower',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'agent_id')
    )
    with op.batch_alter_table('ticket_follower', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_ticket_follower_agent_id'), ['agent_id'], unique=False
        )

    op.create_table('mention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('handle', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mention_message_id'), ['message_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', helpdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mail_due', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['agent.id'], ),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(
            'ix_notification_agent_unread', ['agent_id', 'read_at', 'id'], unique=False
        )
        batch_op.create_index('ix_notification_mail_due', ['mail_due', 'id'], unique=False)

    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'notify_email',
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default='off',
            )
        )



def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('notify_email')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_mail_due')
        batch_op.drop_index('ix_notification_agent_unread')
    op.drop_table('notification')
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_message_id'))
    op.drop_table('mention')
    with op.batch_alter_table('ticket_follower', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_follower_agent_id'))
    op.drop_table('ticket_follower')
