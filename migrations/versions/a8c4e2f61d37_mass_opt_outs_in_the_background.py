"""mass opt-outs and approvals in the background

A mass opt-out is recorded when the customer confirms it and applied in chunks by a
background run: its state, how the decision arrived, its frozen selection (filter, newest
contact and address at the click), the count confirmed, how far the run got, its heartbeat,
when it finished and why it stopped. The index of a batch's events gains the event id.
An approval records its application (`request_applications`): the decision, the agent, how
far the run got, its heartbeat, when it finished and why it stopped. Requests approved before
were applied whole and need no row. Batches from before were applied whole, so they start
out `done`.

Revision ID: a8c4e2f61d37
Revises: 4c1d7e9a2b60
Create Date: 2026-12-04 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'a8c4e2f61d37'
down_revision = '4c1d7e9a2b60'
branch_labels = None
depends_on = None

CHANNELS = ('web', 'api', 'recipient_link', 'one_click', 'provider_feed')


def upgrade():
    op.create_table(
        'request_applications',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.Enum('applying', 'done', 'failed', name='apply_state', native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('actor_kind', sa.Enum('customer', 'agent', 'manager', 'recipient', 'system', name='actor_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('actor_user_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.Enum(*CHANNELS, name='channel', native_enum=False, create_constraint=True, length=32), nullable=True),
        sa.Column('applied_through', sa.BigInteger(), nullable=False),
        sa.Column('processed_count', sa.Integer(), nullable=False),
        sa.Column('heartbeat_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('finished_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_request_applications_actor_user_id_users')),
        sa.ForeignKeyConstraint(['id'], ['consent_requests.id'], name=op.f('fk_request_applications_id_consent_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_applications')),
    )
    with op.batch_alter_table('mass_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('applying', 'done', 'failed', name='mass_action_state', native_enum=False, create_constraint=True, length=32), nullable=False, server_default='done'))
        batch_op.add_column(sa.Column('channel', sa.Enum(*CHANNELS, name='channel', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('selection_filter', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('expected_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_contact_id', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_address_id', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('applied_through', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('heartbeat_at', requests_queue.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', requests_queue.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.String(length=500), nullable=False, server_default=''))
    # Each chunk copies the events it wrote (a batch's, after a known id) as the snapshot.
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_mass_action')
        batch_op.create_index('ix_status_events_mass_action', ['mass_action_id', 'id'], unique=False)


def downgrade():
    op.drop_table('request_applications')
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_mass_action')
        batch_op.create_index('ix_status_events_mass_action', ['mass_action_id'], unique=False)
    with op.batch_alter_table('mass_actions', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('applied_through')
        batch_op.drop_column('last_address_id')
        batch_op.drop_column('last_contact_id')
        batch_op.drop_column('expected_count')
        batch_op.drop_column('selection_filter')
        batch_op.drop_constraint(op.f('ck_mass_actions_channel'), type_='check')
        batch_op.drop_column('channel')
        batch_op.drop_constraint(op.f('ck_mass_actions_mass_action_state'), type_='check')
        batch_op.drop_column('state')
