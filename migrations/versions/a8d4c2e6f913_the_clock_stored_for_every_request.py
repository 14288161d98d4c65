"""the SLA clock stored for every request; report_facts keeps only the history

The dashboard kept its own copy of each request's live clock in `report_facts` (`is_open`,
`assignee_id`, `due_at`, `breach_at`, `breach_day`, `run_s`, `run_mark`). The clock is now
stored once, on the request, for every request, open or closed: `clock_base_mark` (a running
clock's base on the business line, in seconds) joins the `clock_*` columns, and the dashboard
reads them. `report_facts` keeps the history (filed, first response, decision).

Upgrading rebuilds `report_facts` in its new shape (a cache: the next refresh fills it), marks
the running clocks, which stored no mark yet, and the clocks cleared by the old sweep as not
computed (the next sweep or dashboard refresh computes them), and starts the sweep's watermark
from the facts' calendar so that the first sweep does not record old breaches of closed
requests again. Downgrading restores the old shapes; the facts are computed again.

Revision ID: a8d4c2e6f913
Revises: f3a7c1e9b254
Create Date: 2026-12-04 19:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'a8d4c2e6f913'
down_revision = 'f3a7c1e9b254'
branch_labels = None
depends_on = None

STORED = "clock_calendar_key IS NOT NULL"
RUNNING = "('submitted', 'in_review', 'pending_second_review')"
HISTORY = (
    ('decided_day', 'decided_by_id', 'decision_s'),
    ('decision_s', 'decided_day'),
    ('filed_day',),
    ('first_response_day',),
    ('first_response_s', 'first_response_day'),
)
HISTORY_NAMES = ('ix_report_facts_decided', 'ix_report_facts_decision_s', 'ix_report_facts_filed',
                 'ix_report_facts_first_response', 'ix_report_facts_response_s')


def _report_facts(live_clock: bool):
    """Create `report_facts` in its new shape, or with the live clock (the old one)."""
    clock = [
        sa.Column('due_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('breach_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('breach_day', sa.Date(), nullable=True),
        sa.Column('run_s', sa.Integer(), nullable=False),
        sa.Column('run_mark', sa.BigInteger(), nullable=True),
    ] if live_clock else []
    held = [
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_report_facts_assignee_id_users')),
    ] if live_clock else []
    op.create_table('report_facts',
    sa.Column('request_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('filed_day', sa.Date(), nullable=False),
    sa.Column('first_response_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('first_response_day', sa.Date(), nullable=True),
    sa.Column('first_response_s', sa.Integer(), nullable=True),
    sa.Column('decided_at', requests_queue.models.base.UTCDateTime(), nullable=True),
    sa.Column('decided_day', sa.Date(), nullable=True),
    sa.Column('decision_s', sa.Integer(), nullable=True),
    *clock,
    *held,
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_report_facts_decided_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['consent_requests.id'], name=op.f('fk_report_facts_request_id_consent_requests')),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_report_facts'))
    )
    for name, columns in zip(HISTORY_NAMES, HISTORY):
        op.create_index(name, 'report_facts', list(columns), unique=False)
    if live_clock:
        op.create_index('ix_report_facts_breach', 'report_facts', ['breach_day', 'assignee_id', 'breach_at', 'run_s', 'run_mark'], unique=False)
        op.create_index('ix_report_facts_open', 'report_facts', ['is_open', 'assignee_id', 'run_s', 'run_mark'], unique=False)
    # The facts are a cache: without a state row the next refresh computes every request's.
    op.execute("DELETE FROM report_facts_state")


def upgrade():
    # The watermark first, from the facts' calendar, before report_facts_state is emptied.
    op.create_table('sla_sweep_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('swept_at', requests_queue.models.base.UTCDateTime(), nullable=False),
    sa.Column('calendar_key', sa.String(length=40), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_sla_sweep_state_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_sweep_state'))
    )
    op.get_bind().execute(
        sa.text(
            "INSERT INTO sla_sweep_state (id, swept_at, calendar_key)"
            " SELECT 1, :now, calendar_key FROM report_facts_state WHERE id = 1"
        ).bindparams(sa.bindparam('now', type_=requests_queue.models.base.UTCDateTime())),
        {'now': datetime.now(UTC)},
    )
    op.drop_table('report_facts')
    _report_facts(live_clock=False)
    # Plain ALTER TABLE on both databases: a batch rebuild of consent_requests on SQLite would
    # drop a table other rows refer to.
    op.add_column('consent_requests', sa.Column('clock_base_mark', sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE consent_requests SET clock_calendar_key = NULL WHERE state IN {RUNNING}")
    op.drop_index('ix_consent_requests_stored_clock', table_name='consent_requests',
                  sqlite_where=sa.text(STORED), postgresql_where=sa.text(STORED))
    op.create_index('ix_consent_requests_clock_key', 'consent_requests', ['clock_calendar_key', 'state'], unique=False)
    op.create_index('ix_consent_requests_breach', 'consent_requests', ['clock_breach_at', 'state', 'assignee_id', 'clock_ran_s', 'clock_base_mark', 'id'], unique=False)
    op.create_index('ix_consent_requests_clock', 'consent_requests', ['state', 'assignee_id', 'clock_base_mark', 'clock_ran_s', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_consent_requests_clock', table_name='consent_requests')
    op.drop_index('ix_consent_requests_breach', table_name='consent_requests')
    op.drop_index('ix_consent_requests_clock_key', table_name='consent_requests')
    # The old code stores nothing for a clock that never stopped, and forgets closed ones once
    # the sweep has seen them: its sweep recomputes what it needs from the timelines.
    op.execute(
        "UPDATE consent_requests SET clock_base_at = NULL, clock_ran_s = NULL, clock_due_at = NULL,"
        " clock_breach_at = NULL, clock_calendar_key = NULL"
    )
    op.create_index(
        'ix_consent_requests_stored_clock', 'consent_requests', ['state', 'clock_breach_at'],
        unique=False, sqlite_where=sa.text(STORED), postgresql_where=sa.text(STORED),
    )
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): no rebuild of a table others refer to.
    op.drop_column('consent_requests', 'clock_base_mark')
    op.drop_table('report_facts')
    _report_facts(live_clock=True)
    op.drop_table('sla_sweep_state')
