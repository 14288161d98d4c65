"""a mass opt-out's undo count, kept on its row

The customer's undo form and the undo's filing counted, for every address the batch changed,
whether it is still opted out by it (800,000 addresses: about 1 s a page, issue 11 §1). The
batch keeps that count from the end of its run, as of a status event id, and a page adds the
changes since, as a filed request's kept count does (`requests.kept_eligibility`). Batches run
before are counted whole until the `keep_eligibility` job has kept their count.

Revision ID: e5b9d2f7a184
Revises: c8f1e5a3d742
Create Date: 2026-12-04 13:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b9d2f7a184'
down_revision = 'c8f1e5a3d742'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mass_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligibility', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('eligibility_through', sa.BigInteger(), nullable=True))


def downgrade():
    # Not a batch: SQLite (3.35+) drops a column in place, where rebuilding `mass_actions`
    # would trip the foreign keys of the tables that reference it.
    op.drop_column('mass_actions', 'eligibility_through')
    op.drop_column('mass_actions', 'eligibility')
