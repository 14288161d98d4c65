"""the queue's counts, kept by triggers on consent_requests

The agent queue grouped every open request for its filter counts on each page view (about
16 ms of PostgreSQL's time a page at 100,000 requests, issue 16's throughput). Triggers on
`consent_requests` now log +1 / -1 per (state, kind, account, assignee) group into
`queue_tally_changes`, the `tally_queue` job folds them into `queue_tally`, and a page reads
the two (`requests_queue.requests.queue_tally`). The counts start from the requests as they
are. The trigger text is a frozen copy of `models.queue_tally`'s (a test compares them).

Revision ID: f3a7c1e9b254
Revises: e5b9d2f7a184
Create Date: 2026-12-04 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a7c1e9b254'
down_revision = 'e5b9d2f7a184'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS queue_tally_insert AFTER INSERT ON consent_requests BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) VALUES (NEW.state, NEW.kind, NEW.account_id, COALESCE(NEW.assignee_id, 0), 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_tally_delete AFTER DELETE ON consent_requests BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) VALUES (OLD.state, OLD.kind, OLD.account_id, COALESCE(OLD.assignee_id, 0), -1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_tally_update AFTER UPDATE OF state, kind, account_id, assignee_id ON consent_requests WHEN OLD.state IS NOT NEW.state OR OLD.kind IS NOT NEW.kind OR OLD.account_id IS NOT NEW.account_id OR OLD.assignee_id IS NOT NEW.assignee_id BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) VALUES (OLD.state, OLD.kind, OLD.account_id, COALESCE(OLD.assignee_id, 0), -1); INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) VALUES (NEW.state, NEW.kind, NEW.account_id, COALESCE(NEW.assignee_id, 0), 1); END',
)
POSTGRESQL_TRIGGERS = (
    'CREATE OR REPLACE FUNCTION queue_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) SELECT s, k, a, p, sum(d) FROM (SELECT state, kind, account_id, COALESCE(assignee_id, 0), 1 FROM added) AS moved (s, k, a, p, d) GROUP BY s, k, a, p HAVING sum(d) <> 0; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION queue_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) SELECT s, k, a, p, sum(d) FROM (SELECT state, kind, account_id, COALESCE(assignee_id, 0), -1 FROM removed) AS moved (s, k, a, p, d) GROUP BY s, k, a, p HAVING sum(d) <> 0; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION queue_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO queue_tally_changes (state, kind, account_id, assignee_key, n) SELECT s, k, a, p, sum(d) FROM (SELECT state, kind, account_id, COALESCE(assignee_id, 0), -1 FROM before UNION ALL SELECT state, kind, account_id, COALESCE(assignee_id, 0), 1 FROM after) AS moved (s, k, a, p, d) GROUP BY s, k, a, p HAVING sum(d) <> 0; RETURN NULL; END $$',
    'CREATE OR REPLACE TRIGGER queue_tally_insert AFTER INSERT ON consent_requests REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_insert()',
    'CREATE OR REPLACE TRIGGER queue_tally_delete AFTER DELETE ON consent_requests REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_delete()',
    'CREATE OR REPLACE TRIGGER queue_tally_update AFTER UPDATE ON consent_requests REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_update()',
)


def upgrade():
    op.create_table(
        'queue_tally',
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('assignee_key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('state', 'kind', 'account_id', 'assignee_key', name=op.f('pk_queue_tally')),
    )
    op.create_table(
        'queue_tally_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('assignee_key', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_tally_changes')),
    )
    # The counts as they are, then the triggers (one transaction: a migration runs in one on
    # both databases, so no request changes between the two).
    op.execute(
        "INSERT INTO queue_tally (state, kind, account_id, assignee_key, n) "
        "SELECT state, kind, account_id, COALESCE(assignee_id, 0), count(*) "
        "FROM consent_requests GROUP BY state, kind, account_id, COALESCE(assignee_id, 0)"
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == 'postgresql' else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    for name in ('queue_tally_insert', 'queue_tally_delete', 'queue_tally_update'):
        op.execute(f'DROP TRIGGER IF EXISTS {name}' + (
            ' ON consent_requests' if op.get_bind().dialect.name == 'postgresql' else ''))
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    op.drop_table('queue_tally_changes')
    op.drop_table('queue_tally')
