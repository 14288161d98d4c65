"""a request's eligibility now, kept on its freeze

The agent's review page, the first press of Approve and the page awaiting a second agent each
counted every frozen address's eligibility (a million-address request: 0.4–1.2 s a page,
issue 11 §1). The freeze keeps the count instead, as of a status event id; a page adds only
the status changes since, and a job moves the count forward (`requests.kept_eligibility`).
Both columns are NULL for freezes recorded before: those requests are counted whole, as
before, until the job first keeps their count.

Revision ID: a4d2c8e6f019
Revises: b7e3d91c5a20
Create Date: 2026-12-04 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d2c8e6f019'
down_revision = 'b7e3d91c5a20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('request_freezes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligibility', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('eligibility_through', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('request_freezes', schema=None) as batch_op:
        batch_op.drop_column('eligibility_through')
        batch_op.drop_column('eligibility')
