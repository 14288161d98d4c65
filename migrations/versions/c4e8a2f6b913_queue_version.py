"""the queue's version, kept by triggers, so a web process can reuse a queue page it rendered

The agent queue cost about 10 ms of a web worker's CPU a view, most of it reading and rendering
the same 25 rows twenty agents were looking at (issue 16's throughput). Statement triggers
(PostgreSQL) or row triggers (SQLite) on the tables a queue page shows add to
`queue_version_bumps`; a page rendered at one version is reused while the version stays
(`support.agent.queue_cache`). The trigger text is a frozen copy of `models.queue_version`'s
(a test compares them).

Revision ID: c4e8a2f6b913
Revises: d9f2a4c6e813
Create Date: 2026-12-05 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f6b913'
down_revision = 'd9f2a4c6e813'
branch_labels = None
depends_on = None

WATCHED = ('consent_requests', 'accounts', 'users', 'calendar_settings', 'calendar_hours', 'calendar_holidays')
SQLITE_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS queue_version_consent_requests_insert AFTER INSERT ON consent_requests BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_consent_requests_delete AFTER DELETE ON consent_requests BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_consent_requests_update AFTER UPDATE ON consent_requests BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_accounts_insert AFTER INSERT ON accounts BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_accounts_delete AFTER DELETE ON accounts BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_accounts_update AFTER UPDATE OF name ON accounts BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_users_insert AFTER INSERT ON users BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_users_delete AFTER DELETE ON users BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_users_update AFTER UPDATE OF email, name, role, is_active, time_zone, account_id ON users BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_settings_insert AFTER INSERT ON calendar_settings BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_settings_delete AFTER DELETE ON calendar_settings BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_settings_update AFTER UPDATE ON calendar_settings BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_hours_insert AFTER INSERT ON calendar_hours BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_hours_delete AFTER DELETE ON calendar_hours BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_hours_update AFTER UPDATE ON calendar_hours BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_holidays_insert AFTER INSERT ON calendar_holidays BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_holidays_delete AFTER DELETE ON calendar_holidays BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
    'CREATE TRIGGER IF NOT EXISTS queue_version_calendar_holidays_update AFTER UPDATE ON calendar_holidays BEGIN INSERT OR REPLACE INTO queue_version_bumps (id, n) VALUES (0, COALESCE((SELECT n FROM queue_version_bumps WHERE id = 0), 0) + 1); END',
)
POSTGRESQL_TRIGGERS = (
    'CREATE OR REPLACE FUNCTION queue_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO queue_version_bumps (n) VALUES (1); RETURN NULL; END $$',
    'CREATE OR REPLACE TRIGGER queue_version_consent_requests AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consent_requests FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
    'CREATE OR REPLACE TRIGGER queue_version_accounts AFTER INSERT OR UPDATE OF name OR DELETE OR TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
    'CREATE OR REPLACE TRIGGER queue_version_users AFTER INSERT OR UPDATE OF email, name, role, is_active, time_zone, account_id OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
    'CREATE OR REPLACE TRIGGER queue_version_calendar_settings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_settings FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
    'CREATE OR REPLACE TRIGGER queue_version_calendar_hours AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_hours FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
    'CREATE OR REPLACE TRIGGER queue_version_calendar_holidays AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_holidays FOR EACH STATEMENT EXECUTE FUNCTION queue_version_bump()',
)


def upgrade():
    op.create_table(
        'queue_version_bumps',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_version_bumps')),
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == 'postgresql' else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f'DROP TRIGGER IF EXISTS queue_version_{table} ON {table}')
        op.execute('DROP FUNCTION IF EXISTS queue_version_bump()')
    else:
        for table in WATCHED:
            for event in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER IF EXISTS queue_version_{table}_{event}')
    op.drop_table('queue_version_bumps')
