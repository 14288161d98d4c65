"""request_addresses without foreign keys: the frozen selection written at the database's pace

A request's frozen selection is one `request_addresses` row per address, written only by the
freeze's INSERT … SELECT from `email_addresses` for a request that exists in the same
transaction; neither `email_addresses` nor `consent_requests` has a deletion path. The two
foreign keys re-checked what that statement's own join guarantees, one trigger call per row:
on PostgreSQL they were 6 of the 7.7 s that recording a 1,000,000-address selection took
(each address check also takes a row lock on `email_addresses`, a WAL record apiece).
`tests/requests_queue/test_request_freezing.py` (every frozen row names its request and an
address of its account) keeps the invariant instead.

Downgrading adds the foreign keys back (they validate the rows present).

Revision ID: c5e1a9d3b702
Revises: a8d4c2e6f913
Create Date: 2026-12-05 00:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5e1a9d3b702'
down_revision = 'a8d4c2e6f913'
branch_labels = None
depends_on = None

KEYS = (
    ('fk_request_addresses_address_id_email_addresses', 'email_addresses', 'address_id'),
    ('fk_request_addresses_request_id_consent_requests', 'consent_requests', 'request_id'),
)


def upgrade():
    with op.batch_alter_table('request_addresses', schema=None) as batch_op:
        for name, _, _ in KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')


def downgrade():
    with op.batch_alter_table('request_addresses', schema=None) as batch_op:
        for name, table, column in KEYS:
            batch_op.create_foreign_key(name, table, [column], ['id'])
