"""repair campaign queueing columns

Migration 3747f5641a37 was edited after some development databases had applied it: those
lack `campaigns.last_address_id` and `campaigns.queued_field`, and Alembic, which goes by the
revision id alone, will never add them. This adds whichever of the two is missing and does
nothing on a database that has them. Downgrade does nothing: the columns belong to 3747f5641a37,
whose own downgrade drops them. (Applied migrations are never edited again: a change is a new one.)

Revision ID: c3a9e1f27b64
Revises: b7d2e5f8a903
Create Date: 2026-12-03 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1f27b64'
down_revision = 'b7d2e5f8a903'
branch_labels = None
depends_on = None

# As 3747f5641a37 defines them today.
_COLUMNS = {
    'last_address_id': lambda: sa.Column('last_address_id', sa.BigInteger(), nullable=False, server_default='0'),
    'queued_field': lambda: sa.Column('queued_field', sa.String(length=32), nullable=False, server_default=''),
}


def upgrade():
    present = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('campaigns')}
    for name, column in _COLUMNS.items():
        if name not in present:
            # A plain ADD COLUMN (not a batch copy of the table): fine on both databases.
            op.add_column('campaigns', column())


def downgrade():
    pass
