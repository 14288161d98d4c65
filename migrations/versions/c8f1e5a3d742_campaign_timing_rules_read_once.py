"""a campaign's timing rules read as two small sets, each along its own index

"Confirmed in the last 30 days" and "sent a confirmation in the last 7 days" were an EXISTS per
address (a million index probes for a million-address selection: the campaign form took 1.3 s,
issue 11 §1). Each is now one set read once per statement: the account's recent confirmations
along a partial index of double opt-in events, and its campaigns' recent recipients along
(campaign, created_at).

Revision ID: c8f1e5a3d742
Revises: a4d2c8e6f019
Create Date: 2026-12-04 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8f1e5a3d742'
down_revision = 'a4d2c8e6f019'
branch_labels = None
depends_on = None

CONFIRMATIONS = sa.text("to_status = 'double_opt_in'")


def upgrade():
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_status_events_confirmations', ['account_id', 'created_at'], unique=False,
            sqlite_where=CONFIRMATIONS, postgresql_where=CONFIRMATIONS,
        )
    with op.batch_alter_table('campaign_recipients', schema=None) as batch_op:
        batch_op.create_index(
            'ix_campaign_recipients_campaign_created', ['campaign_id', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('campaign_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_recipients_campaign_created')
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_confirmations')
