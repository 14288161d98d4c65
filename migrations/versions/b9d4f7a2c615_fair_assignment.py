"""fair assignment: settings, agents' availability and working hours

Automatic assignment of new requests (issue 15): the manager's switch and open-load cap (one
row, absent = off), each support user's away toggle, own hours and round-robin turn.

Revision ID: b9d4f7a2c615
Revises: c6f2a8e4d915
Create Date: 2026-12-03 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'b9d4f7a2c615'
down_revision = 'c6f2a8e4d915'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'assignment_settings',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('max_open_per_agent', sa.Integer(), nullable=False),
        sa.Column('updated_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('id = 1', name=op.f('ck_assignment_settings_single_row')),
        sa.CheckConstraint(
            'max_open_per_agent BETWEEN 1 AND 1000',
            name=op.f('ck_assignment_settings_max_open_range'),
        ),
        sa.ForeignKeyConstraint(
            ['updated_by_id'], ['users.id'],
            name=op.f('fk_assignment_settings_updated_by_id_users'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_settings')),
    )
    op.create_table(
        'agent_shifts',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('is_away', sa.Boolean(), nullable=False),
        sa.Column('has_own_hours', sa.Boolean(), nullable=False),
        sa.Column('last_turn', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_assigned_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('changed_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_agent_shifts_user_id_users')
        ),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_shifts')),
    )
    op.create_table(
        'agent_hours',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('opens', sa.Time(), nullable=False),
        sa.Column('closes', sa.Time(), nullable=False),
        sa.CheckConstraint('opens < closes', name=op.f('ck_agent_hours_opens_before_closes')),
        sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_agent_hours_weekday_range')),
        sa.ForeignKeyConstraint(
            ['user_id'], ['agent_shifts.user_id'],
            name=op.f('fk_agent_hours_user_id_agent_shifts'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('user_id', 'weekday', name=op.f('pk_agent_hours')),
    )


def downgrade():
    op.drop_table('agent_hours')
    op.drop_table('agent_shifts')
    op.drop_table('assignment_settings')
