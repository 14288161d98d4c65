"""a mass opt-out's prior-status snapshot is its events' from_status

`mass_action_items` held, per address a mass opt-out changed, the status it had before: a copy
of the `from_status` of the status event the same chunk wrote for it (issue 11 §3). The events
are the snapshot now (`mass_actions.prior_statuses`) and the copy goes. The upgrade first
checks that every stored item has its event, and refuses with the batch named if one has not,
rather than lose a prior status an undo needs.

The status events' mass action index becomes (mass_action_id, address_id), partial on
mass_action_id IS NOT NULL: it reads a batch's snapshot in address order, as the table's key
did, and the events of imports, requests and recipients no longer write an entry in it. The
request index becomes partial on request_id IS NOT NULL the same way: an import or a mass
opt-out writes one index entry less per address. The downgrade rebuilds the table from the
events and the indexes as they were.

Revision ID: b7e3d91c5a20
Revises: d2f7b9c4e816
Create Date: 2026-12-04 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3d91c5a20'
down_revision = 'd2f7b9c4e816'
branch_labels = None
depends_on = None

STATUSES = (
    'single_opt_in', 'double_opt_in', 'non_marketable', 'opted_out_by_user',
    'opted_out_by_recipient', 'spam_complaint', 'hard_bounce', 'invalid',
)
BATCH_EVENTS = sa.text('mass_action_id IS NOT NULL')
REQUEST_EVENTS = sa.text('request_id IS NOT NULL')


def upgrade():
    conn = op.get_bind()
    orphan = conn.execute(sa.text(
        "SELECT i.mass_action_id, i.address_id FROM mass_action_items i "
        "WHERE NOT EXISTS (SELECT 1 FROM status_events e WHERE e.mass_action_id = i.mass_action_id "
        "AND e.address_id = i.address_id AND e.from_status = i.prior_status) LIMIT 1"
    )).first()
    if orphan is not None:
        raise RuntimeError(
            f"mass opt-out #{orphan[0]}: address {orphan[1]} has a prior status but no status "
            "event that records it; keeping mass_action_items (nothing was changed)"
        )
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_mass_action')
        batch_op.create_index(
            'ix_status_events_mass_action', ['mass_action_id', 'address_id'], unique=False,
            sqlite_where=BATCH_EVENTS, postgresql_where=BATCH_EVENTS,
        )
        batch_op.drop_index('ix_status_events_request')
        batch_op.create_index(
            'ix_status_events_request', ['request_id'], unique=False,
            sqlite_where=REQUEST_EVENTS, postgresql_where=REQUEST_EVENTS,
        )
    with op.batch_alter_table('mass_action_items', schema=None) as batch_op:
        batch_op.drop_index('ix_mass_action_items_address')
    op.drop_table('mass_action_items')


def downgrade():
    op.create_table(
        'mass_action_items',
        sa.Column('mass_action_id', sa.Integer(), nullable=False),
        sa.Column('address_id', sa.Integer(), nullable=False),
        sa.Column('prior_status', sa.Enum(*STATUSES, name='prior_status', native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.ForeignKeyConstraint(['address_id'], ['email_addresses.id'], name=op.f('fk_mass_action_items_address_id_email_addresses')),
        sa.ForeignKeyConstraint(['mass_action_id'], ['mass_actions.id'], name=op.f('fk_mass_action_items_mass_action_id_mass_actions')),
        sa.PrimaryKeyConstraint('mass_action_id', 'address_id', name=op.f('pk_mass_action_items')),
    )
    with op.batch_alter_table('mass_action_items', schema=None) as batch_op:
        batch_op.create_index('ix_mass_action_items_address', ['address_id'], unique=False)
    op.execute(
        "INSERT INTO mass_action_items (mass_action_id, address_id, prior_status) "
        "SELECT mass_action_id, address_id, from_status FROM status_events "
        "WHERE mass_action_id IS NOT NULL AND from_status IS NOT NULL"
    )
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_mass_action')
        batch_op.create_index('ix_status_events_mass_action', ['mass_action_id', 'id'], unique=False)
        batch_op.drop_index('ix_status_events_request')
        batch_op.create_index('ix_status_events_request', ['request_id'], unique=False)
