"""import_matches without foreign keys or the contact index (issue 11 §3)

`import_matches` has one reader: a running import asking whether an earlier row of the same
file already matched a contact (`imports.staging._decide`, by its primary key). Its one
writer is set-based and fills both columns in one statement, the batch as one value it has
just read and the contact ids from the account's own addresses it matched in the same
transaction; nothing deletes contacts or import batches. On PostgreSQL the two ON DELETE
CASCADE keys still cost a trigger call per row each, and the contact key a row lock on every
matched contact (a WAL record apiece), and the contact index existed only for the cascade:
together 1.5 of the 20 s a 300,000-row half-matching import took on PostgreSQL. The
stateful rule-book test keeps the invariant instead (`rulebook_invariants.check_references`:
each match names a batch and a contact of the batch's account).

Downgrading adds the index and the keys back (they validate the rows present).

Revision ID: b7d3e5f1a926
Revises: c5e1a9d3b702
Create Date: 2026-12-05 02:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d3e5f1a926'
down_revision = 'c5e1a9d3b702'
branch_labels = None
depends_on = None

KEYS = (('batch_id', 'import_batches'), ('contact_id', 'contacts'))


def upgrade():
    with op.batch_alter_table('import_matches', schema=None) as batch_op:
        for column, referred in KEYS:
            batch_op.drop_constraint(f'fk_import_matches_{column}_{referred}', type_='foreignkey')
        batch_op.drop_index('ix_import_matches_contact')


def downgrade():
    with op.batch_alter_table('import_matches', schema=None) as batch_op:
        batch_op.create_index('ix_import_matches_contact', ['contact_id'], unique=False)
        for column, referred in KEYS:
            batch_op.create_foreign_key(
                f'fk_import_matches_{column}_{referred}', referred, [column], ['id'],
                ondelete='CASCADE',
            )
