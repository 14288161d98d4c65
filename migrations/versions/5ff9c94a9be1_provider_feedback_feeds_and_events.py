"""provider feedback feeds and events

Issue 13, "In": each account's feeds from its sending provider (URL id, sealed credential,
soft-bounce limit, counters of refused deliveries), every event they carried (unique per
feed on the provider's event id) and the recently seen signed deliveries (replays refused).

Revision ID: 5ff9c94a9be1
Revises: bfb2ec907a60
Create Date: 2026-12-03 17:01:51.026590

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = '5ff9c94a9be1'
down_revision = 'bfb2ec907a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.Enum('ses', 'postmark', 'sendgrid', 'mailgun', 'standard', name='feed_provider', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('public_id', sa.String(length=64), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('secret_hint', sa.String(length=40), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('topic_arn', sa.String(length=256), nullable=False),
    sa.Column('soft_bounce_limit', sa.Integer(), nullable=False),
    sa.Column('soft_bounce_window_hours', sa.Integer(), nullable=False),
    sa.Column('subscribe_url', sa.String(length=1000), nullable=False),
    sa.Column('subscription_confirmed_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('bad_signature_count', sa.Integer(), nullable=False),
    sa.Column('last_bad_signature_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('refused_count', sa.Integer(), nullable=False),
    sa.Column('last_refusal', sa.String(length=200), nullable=False),
    sa.Column('last_refusal_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_received_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_feedback_feeds_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_feeds')),
    sa.UniqueConstraint('public_id', name=op.f('uq_feedback_feeds_public_id'))
    )
    with op.batch_alter_table('feedback_feeds', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_feeds_account', ['account_id', 'id'], unique=False)

    op.create_table('feedback_nonces',
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('seen_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feedback_feeds.id'], name=op.f('fk_feedback_nonces_feed_id_feedback_feeds')),
    sa.PrimaryKeyConstraint('feed_id', 'nonce', name=op.f('pk_feedback_nonces'))
    )
    with op.batch_alter_table('feedback_nonces', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_nonces_seen', ['seen_at'], unique=False)

    op.create_table('feedback_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('provider_event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('hard_bounce', 'soft_bounce', 'complaint', 'unsubscribe', 'other', name='feedback_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('raw_address', sa.String(length=320), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('received_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('processed_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.Enum('pending', 'applied', 'unchanged', 'unknown_address', 'soft_counted', 'soft_threshold', 'ignored', name='feedback_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_feedback_events_account_id_accounts')),
    sa.ForeignKeyConstraint(['address_id'], ['email_addresses.id'], name=op.f('fk_feedback_events_address_id_email_addresses')),
    sa.ForeignKeyConstraint(['feed_id'], ['feedback_feeds.id'], name=op.f('fk_feedback_events_feed_id_feedback_feeds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_events')),
    sa.UniqueConstraint('feed_id', 'provider_event_id', name='uq_feedback_events_feed_event')
    )
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_events_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_feedback_events_address', ['address_id', 'kind', 'occurred_at'], unique=False)
        batch_op.create_index('ix_feedback_events_outcome', ['feed_id', 'outcome'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_events_outcome')
        batch_op.drop_index('ix_feedback_events_address')
        batch_op.drop_index('ix_feedback_events_account')

    op.drop_table('feedback_events')
    with op.batch_alter_table('feedback_nonces', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_nonces_seen')

    op.drop_table('feedback_nonces')
    with op.batch_alter_table('feedback_feeds', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_feeds_account')

    op.drop_table('feedback_feeds')
