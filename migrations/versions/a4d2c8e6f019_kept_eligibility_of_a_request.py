"""a request's eligibility now, kept on its freeze

The agent's review page, the first press of Approve and the page awaiting a second agent each
counted every frozen address's eligibility (a million-address request: 0.4–1.2 s a page,
issue 11 §1). The freeze keeps the count instead, as of a status event id; a page adds only
the status changes since, and a job moves the count forward (`requests.kept_eligibility`).
Both columns are NULL for freezes recorded before: those requests are counted whole, as
before, until the job first keeps their count.

Each account notes the newest event id when its addresses' statuses last changed
(`status_changed_through`, set by every status writer under the account's lock), so a page can
tell from one row that nothing changed since the kept count. Existing accounts start at the
newest event id there is.

Revision ID: a4d2c8e6f019
Revises: b7e3d91c5a20
Create Date: 2026-12-04 12:10:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a4d2c8e6f019"
down_revision = "b7e3d91c5a20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("request_freezes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eligibility", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("eligibility_through", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_changed_through", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE accounts SET status_changed_through = "
        "(SELECT coalesce(max(id), 0) FROM status_events)"
    )


def downgrade():
    # Not a batch: SQLite (3.35+) drops a column in place, where rebuilding `accounts` would
    # trip the foreign keys of every table that references it.
    op.drop_column('accounts', 'status_changed_through')
    with op.batch_alter_table('request_freezes', schema=None) as batch_op:
        batch_op.drop_column('eligibility_through')
        batch_op.drop_column('eligibility')
