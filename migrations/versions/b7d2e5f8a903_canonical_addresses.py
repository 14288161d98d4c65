"""canonical addresses: one mailbox is one address

Addresses were stored trimmed and lower-cased, so `name@bücher.example`, its punycode
spelling `name@xn--bcher-kva.example` and its NFD spelling were three rows. From here on the
unique key (`email_addresses.address`) holds the canonical form (requests_queue/mailbox.py) and
`typed_address` the customer's own spelling where it differs.

Upgrade, for every stored address whose canonical form differs from what is stored:
- no other row of the account has that form: the row is re-keyed, its old spelling kept in
  `typed_address`; status and history untouched.
- other rows of the account have it (one mailbox stored twice or more): the row with the
  strictest status (statuses.STRICTEST_FIRST; the oldest row on a tie) keeps the mailbox. Each
  other row is retired, not deleted: detached from its contact, keyed by a tombstone that matches
  no address (`merged:<id>`), status and events untouched; an `address_merges` row names both
  rows, the retired spelling and status, and the contact field it left. If the survivor was
  detached, it takes the first retired row's contact field, so the contact keeps its address.
Nothing is merged silently: every merge is a row in `address_merges`, shown on the survivor's
contact page with the retired row's history.

Downgrade puts the old spellings back (lower-cased, as before), re-attaches retired rows where
their field is still free, and drops the new column and table.

Revision ID: b7d2e5f8a903
Revises: 9a1f0c2d3e41
Create Date: 2026-12-03 13:25:31.435621

"""

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import requests_queue.models.base
from requests_queue.mailbox import canonical_address
from requests_queue.statuses import STRICTEST_FIRST

# revision identifiers, used by Alembic.
revision = 'b7d2e5f8a903'
down_revision = '9a1f0c2d3e41'
branch_labels = None
depends_on = None

_RANK = {s.value: i for i, s in enumerate(STRICTEST_FIRST)}


def upgrade():
    op.create_table('address_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('merged_address', sa.String(length=320), nullable=False),
    sa.Column('merged_status', sa.Enum('single_opt_in', 'double_opt_in', 'non_marketable', 'opted_out_by_user', 'opted_out_by_recipient', 'spam_complaint', 'hard_bounce', 'invalid', name='merged_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('merged_contact_id', sa.Integer(), nullable=True),
    sa.Column('merged_field', sa.String(length=10), nullable=True),
    sa.Column('merged_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_address_merges_account_id_accounts')),
    sa.ForeignKeyConstraint(['merged_contact_id'], ['contacts.id'], name=op.f('fk_address_merges_merged_contact_id_contacts')),
    sa.ForeignKeyConstraint(['merged_id'], ['email_addresses.id'], name=op.f('fk_address_merges_merged_id_email_addresses')),
    sa.ForeignKeyConstraint(['survivor_id'], ['email_addresses.id'], name=op.f('fk_address_merges_survivor_id_email_addresses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_merges')),
    sa.UniqueConstraint('merged_id', name=op.f('uq_address_merges_merged_id'))
    )
    with op.batch_alter_table('address_merges', schema=None) as batch_op:
        batch_op.create_index('ix_address_merges_survivor', ['survivor_id'], unique=False)

    with op.batch_alter_table('email_addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('typed_address', sa.String(length=320), nullable=True))

    _canonicalize(op.get_bind())


def _canonicalize(conn):
    """Re-key every stored address to its canonical form, merging rows of one mailbox."""
    columns = "SELECT id, account_id, address, status, contact_id, field FROM email_addresses"
    # Streamed: only the rows that change (few: non-ASCII spellings) are kept in memory.
    result = conn.execute(sa.text(columns).execution_options(yield_per=10_000))
    groups = defaultdict(list)
    for r in result:
        if canonical_address(r.address) != r.address:
            groups[(r.account_id, canonical_address(r.address))].append(r)
    if not groups:
        return
    # Rows already stored in the canonical form of a changing one: the same mailbox.
    wanted = sorted({canonical for _, canonical in groups})
    holders = sa.text(f"{columns} WHERE address IN :values").bindparams(
        sa.bindparam("values", expanding=True))
    for start in range(0, len(wanted), 500):
        for r in conn.execute(holders, {"values": wanted[start:start + 500]}):
            if (r.account_id, r.address) in groups:
                groups[(r.account_id, r.address)].append(r)
    now = datetime.now(UTC)
    update = sa.text("UPDATE email_addresses SET address = :address, typed_address = :typed, "
                     "contact_id = :contact_id, field = :field WHERE id = :id")
    for (account_id, canonical), group in groups.items():
        group.sort(key=lambda r: (_RANK[r.status], r.id))
        survivor, retired = group[0], group[1:]
        slot = (survivor.contact_id, survivor.field)
        for r in retired:  # free the key (and the contact field) before the survivor takes it
            conn.execute(update, {"id": r.id, "address": f"merged:{r.id}", "typed": r.address,
                                  "contact_id": None, "field": None})
            if slot[0] is None and r.contact_id is not None:
                slot = (r.contact_id, r.field)  # the survivor moves in: the contact keeps it
            conn.execute(sa.text(
                "INSERT INTO address_merges (account_id, survivor_id, merged_id, merged_address,"
                " merged_status, merged_contact_id, merged_field, merged_at) VALUES (:a, :s, :m,"
                " :addr, :status, :cid, :field, :now)"
            ).bindparams(sa.bindparam("now", type_=requests_queue.models.base.UTCDateTime())), {
                "a": account_id, "s": survivor.id, "m": r.id, "addr": r.address,
                "status": r.status, "cid": r.contact_id, "field": r.field, "now": now})
        typed = survivor.address if survivor.address != canonical else None
        conn.execute(update, {"id": survivor.id, "address": canonical, "typed": typed,
                              "contact_id": slot[0], "field": slot[1]})


def _restore(conn):
    """Back to the old keys: each row's spelling lower-cased, then retired rows re-attached."""
    merges = conn.execute(sa.text(
        "SELECT merged_id, merged_address, merged_contact_id, merged_field FROM address_merges"
    )).all()
    merged = {m.merged_id for m in merges}
    # Survivors first: a retired row's old key may be the one its survivor holds now.
    for r in conn.execute(sa.text(
        "SELECT id, typed_address FROM email_addresses WHERE typed_address IS NOT NULL"
    )).all():
        if r.id not in merged:
            conn.execute(sa.text("UPDATE email_addresses SET address = :a WHERE id = :id"),
                         {"a": r.typed_address.strip().lower(), "id": r.id})
    for m in merges:
        free = conn.execute(sa.text(
            "SELECT COUNT(*) FROM email_addresses WHERE contact_id = :c AND field = :f"
        ), {"c": m.merged_contact_id, "f": m.merged_field}).scalar() == 0
        conn.execute(sa.text(
            "UPDATE email_addresses SET address = :address, contact_id = :c, field = :f "
            "WHERE id = :id"
        ), {"id": m.merged_id, "address": m.merged_address.strip().lower(),
            "c": m.merged_contact_id if free else None, "f": m.merged_field if free else None})


def downgrade():
    _restore(op.get_bind())
    with op.batch_alter_table('address_merges', schema=None) as batch_op:
        batch_op.drop_index('ix_address_merges_survivor')

    op.drop_table('address_merges')
    # Not a batch: on SQLite that copies the table, which its foreign keys refuse to drop.
    op.execute('ALTER TABLE email_addresses DROP COLUMN typed_address')
