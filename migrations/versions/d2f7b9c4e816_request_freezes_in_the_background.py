"""request selections frozen in the background

Filing a request records its freeze (`request_freezes`): the selection as it stood at the
click (an opt-in's filter and fields, the newest contact and address then), the count
eligible then, how far the run got, its heartbeat, when it finished and why it stopped.
Requests filed before were frozen whole and need no row.

Revision ID: d2f7b9c4e816
Revises: a8c4e2f61d37
Create Date: 2026-12-04 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'd2f7b9c4e816'
down_revision = 'a8c4e2f61d37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_freezes',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.Enum('freezing', 'done', 'failed', name='freeze_state', native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('selection_filter', sa.JSON(), nullable=False),
        sa.Column('fields', sa.String(length=40), nullable=False),
        sa.Column('last_contact_id', sa.BigInteger(), nullable=False),
        sa.Column('last_address_id', sa.BigInteger(), nullable=False),
        sa.Column('expected_count', sa.Integer(), nullable=False),
        sa.Column('frozen_through', sa.BigInteger(), nullable=False),
        sa.Column('frozen_count', sa.Integer(), nullable=False),
        sa.Column('heartbeat_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('finished_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['id'], ['consent_requests.id'], name=op.f('fk_request_freezes_id_consent_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_freezes')),
    )


def downgrade():
    op.drop_table('request_freezes')
