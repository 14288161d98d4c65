"""webhook endpoints and deliveries

Issue 13, out: endpoints (an account's, or the desk's when account_id is NULL) with their
signing secret, the events each wants (one row per event), and the deliveries queued with
the change that caused them (the signed body, the state, tries, the last answer). The
deliveries' ids never repeat on SQLite (AUTOINCREMENT): `msg_<id>` is the webhook-id.

Revision ID: 87244c5c068a
Revises: 5ff9c94a9be1
Create Date: 2026-12-03 17:02:45.051444

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = '87244c5c068a'
down_revision = '5ff9c94a9be1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_webhook_endpoints_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_endpoints_account', ['account_id', 'id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.Enum('request.filed', 'request.state_changed', 'request.decided', 'sla.at_risk', 'sla.breached', 'address.status_changed', name='webhook_event', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('change_count', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'delivered', 'failed', name='webhook_delivery_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('give_up_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_attempt_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('delivered_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_response', sa.String(length=500), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_webhook_deliveries_account_id_accounts')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['state', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_endpoint', ['endpoint_id', 'id'], unique=False)

    op.create_table('webhook_subscriptions',
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.Enum('request.filed', 'request.state_changed', 'request.decided', 'sla.at_risk', 'sla.breached', 'address.status_changed', name='webhook_event', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_subscriptions_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_id', 'event', name=op.f('pk_webhook_subscriptions'))
    )


def downgrade():
    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_endpoint')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_endpoints_account')

    op.drop_table('webhook_endpoints')
