"""session versions instead of the per-user lock-out

`users.session_version` is bumped by logout, a password change and "sign out everywhere"; a
session cookie issued with another value no longer logs anyone in. Failed logins are counted by
the rate limiter (per client address and per email, in its own storage), so the per-user
`failed_logins` and `locked_until` columns go. Existing sessions (issued without a version) end.

Revision ID: 9a1f0c2d3e41
Revises: 3747f5641a37
Create Date: 2026-12-03 14:02:11.208317

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = '9a1f0c2d3e41'
down_revision = '3747f5641a37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', requests_queue.models.base.UTCDateTime(), nullable=True))
        batch_op.drop_column('session_version')
