"""scheduler heartbeats

Each `flask scheduler` process writes its latest beat here (one row per host:pid), so
`/readyz` and the managers' System page can tell whether a scheduler is alive.

Revision ID: d5e8f1a2b3c4
Revises: c3a9e1f27b64
Create Date: 2026-12-03 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'd5e8f1a2b3c4'
down_revision = 'c3a9e1f27b64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_beats',
        sa.Column('runner', sa.String(length=120), nullable=False),
        sa.Column('started_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('beat_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('active_since', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('runner', name=op.f('pk_scheduler_beats')),
    )
    with op.batch_alter_table('scheduler_beats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_beats_beat_at'), ['beat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('scheduler_beats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_beats_beat_at'))
    op.drop_table('scheduler_beats')
