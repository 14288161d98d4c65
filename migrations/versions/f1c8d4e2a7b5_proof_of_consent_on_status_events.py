"""proof of consent on status events

How each status change arrived (`channel`: web page, API, the recipient's link, one-click,
the provider's feed) and, for a recipient's click, the IP address and user agent, as columns
the proof-of-consent export reads (they were only in the free-text note). Events recorded
before this keep NULL: the export says "not recorded" rather than guessing. An index finds
the confirmation email one recipient was sent.

Revision ID: f1c8d4e2a7b5
Revises: e4b7c2a9d130
Create Date: 2026-12-03 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c8d4e2a7b5'
down_revision = 'e4b7c2a9d130'
branch_labels = None
depends_on = None

CHANNELS = ('web', 'api', 'recipient_link', 'one_click', 'provider_feed')


def upgrade():
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum(*CHANNELS, name='event_channel', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('client_ip', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=300), nullable=True))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_campaign_to', ['campaign_id', 'to_address'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_campaign_to')
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        # SQLite rebuilds the table: the column's CHECK would outlive it and name a lost column.
        batch_op.drop_constraint(op.f('ck_status_events_event_channel'), type_='check')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('client_ip')
        batch_op.drop_column('channel')
