"""each user's time zone

`users.time_zone`: the IANA zone a person sees every time in (issue 14, item 5). NULL until the
first login fills it from the browser's zone, or the person picks one on their account page;
until then pages show the team's zone, as the deadlines always were.

Revision ID: a7e3c5d9f214
Revises: f1c8d4e2a7b5
Create Date: 2026-12-03 21:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e3c5d9f214'
down_revision = 'f1c8d4e2a7b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
