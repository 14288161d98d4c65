"""one store of the SLA clock: the sla_clocks table folds into consent_requests

A request's clock was stored in two places: its base on the request (`clock_base_at`) and,
once it had stopped, a `sla_clocks` row (business time run, deadlines reached, calendar key).
Both now live on the request's row (`clock_ran_s`, `clock_due_at`, `clock_breach_at`,
`clock_calendar_key`), written by the request lifecycle in the request's own transaction.
Upgrading copies each row onto its request and drops the table; downgrading rebuilds the
table from the requests that store a clock.

Revision ID: 4c1d7e9a2b60
Revises: 3edeb3e4f45c
Create Date: 2026-12-04 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = '4c1d7e9a2b60'
down_revision = '3edeb3e4f45c'
branch_labels = None
depends_on = None

STORED = "clock_calendar_key IS NOT NULL"


def upgrade():
    # Plain ALTER TABLE on both databases: a batch rebuild of consent_requests on SQLite would
    # drop a table other rows refer to.
    op.add_column('consent_requests', sa.Column('clock_ran_s', sa.Integer(), nullable=True))
    op.add_column('consent_requests', sa.Column('clock_due_at', requests_queue.models.base.UTCDateTime(), nullable=True))
    op.add_column('consent_requests', sa.Column('clock_breach_at', requests_queue.models.base.UTCDateTime(), nullable=True))
    op.add_column('consent_requests', sa.Column('clock_calendar_key', sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE consent_requests SET"
        " clock_ran_s = (SELECT c.ran_s FROM sla_clocks c WHERE c.request_id = consent_requests.id),"
        " clock_due_at = (SELECT c.due_at FROM sla_clocks c WHERE c.request_id = consent_requests.id),"
        " clock_breach_at = (SELECT c.breach_at FROM sla_clocks c WHERE c.request_id = consent_requests.id),"
        " clock_calendar_key = (SELECT c.calendar_key FROM sla_clocks c WHERE c.request_id = consent_requests.id)"
        " WHERE id IN (SELECT request_id FROM sla_clocks)"
    )
    op.create_index(
        'ix_consent_requests_stored_clock', 'consent_requests', ['state', 'clock_breach_at'],
        unique=False, sqlite_where=sa.text(STORED), postgresql_where=sa.text(STORED),
    )
    op.drop_table('sla_clocks')


def downgrade():
    op.create_table('sla_clocks',
    sa.Column('request_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('calendar_key', sa.String(length=40), nullable=False),
    sa.Column('ran_s', sa.Integer(), nullable=False),
    sa.Column('due_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('breach_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['consent_requests.id'], name=op.f('fk_sla_clocks_request_id_consent_requests')),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_sla_clocks'))
    )
    op.execute(
        "INSERT INTO sla_clocks (request_id, calendar_key, ran_s, due_at, breach_at)"
        " SELECT id, clock_calendar_key, COALESCE(clock_ran_s, 0), clock_due_at, clock_breach_at"
        f" FROM consent_requests WHERE {STORED}"
    )
    op.drop_index('ix_consent_requests_stored_clock', table_name='consent_requests',
                  sqlite_where=sa.text(STORED), postgresql_where=sa.text(STORED))
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): no rebuild of a table others refer to.
    for column in ('clock_calendar_key', 'clock_breach_at', 'clock_due_at', 'clock_ran_s'):
        op.drop_column('consent_requests', column)
