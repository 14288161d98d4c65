"""The operational figures a monitoring system samples, read from the database in a few
grouped queries (support/metrics.py turns them into Prometheus gauges at each scrape).

Read from the tables rather than counted in memory: the scheduler and every web worker are
separate processes, and the tables are the one place where all of their work is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..calendar import BusinessCalendar
from ..calendar_store import load_calendar
from ..models import Campaign, CampaignState, ConsentRequest, ImportBatch, ImportState
from ..models.jobs import JobOutcome, JobRun
from ..models.outbox import OutboxMessage, OutboxState
from ..models.requests import OPEN_STATES
from ..models.sla import SlaEvent, SlaThreshold
from ..sla.deadlines import reached_now
from ..sla.engine import AT_RISK, BREACHED, at_level
from .schedule import SCHEDULE

RECENT = timedelta(hours=24)


@dataclass
class Figures:
    """One sample of everything (all counts; ages in seconds)."""

    job_runs: dict[tuple[str, str], int] = field(default_factory=dict)  # (job, outcome)
    job_last_success: dict[str, float] = field(default_factory=dict)  # job → unix time
    outbox: dict[str, int] = field(default_factory=dict)  # state → messages
    outbox_uncertain: int = 0
    outbox_oldest_unsent_seconds: float = 0.0
    open_requests: dict[str, int] = field(default_factory=dict)  # state → requests
    at_risk: int = 0  # open, past due, not yet breached (the stored clocks now, as the queue)
    breached_open: int = 0  # open and past the breach time (likewise)
    breaches_recorded: int = 0  # breach notices the sweep ever recorded (kept after closing)
    background_runs: dict[str, int] = field(default_factory=dict)  # kind → in progress


def sample(session: Session, now: datetime) -> Figures:
    """Read every figure as of `now` (the SLA levels with the team's calendar as stored)."""
    f = Figures()
    for job, outcome, n in session.execute(
        sa.select(JobRun.job_name, JobRun.outcome, sa.func.count())
        .where(JobRun.started_at >= now - RECENT)
        .group_by(JobRun.job_name, JobRun.outcome)
    ):
        f.job_runs[job, outcome.value] = n
    for job in SCHEDULE:  # every job listed, so a job that never ran shows as 0
        for outcome in JobOutcome:
            f.job_runs.setdefault((job.name, outcome.value), 0)
    for job, at in session.execute(
        sa.select(JobRun.job_name, sa.func.max(JobRun.finished_at))
        .where(JobRun.outcome == JobOutcome.ok)
        .group_by(JobRun.job_name)
    ):
        f.job_last_success[job] = at.timestamp()
    counts = dict.fromkeys((s.value for s in OutboxState), 0)
    for state, n in session.execute(
        sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)
    ):
        counts[state.value] = n
    f.outbox = counts
    f.outbox_uncertain = session.scalar(
        sa.select(sa.func.count()).where(
            OutboxMessage.state == OutboxState.failed, OutboxMessage.handed_over_at.is_not(None)
        )
    )
    oldest = session.scalar(
        sa.select(sa.func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state.in_((OutboxState.pending, OutboxState.sending))
        )
    )
    f.outbox_oldest_unsent_seconds = max((now - oldest).total_seconds(), 0) if oldest else 0.0
    f.open_requests = dict.fromkeys((s.value for s in OPEN_STATES), 0)
    for state, n in session.execute(
        sa.select(ConsentRequest.state, sa.func.count())
        .where(ConsentRequest.state.in_(OPEN_STATES))
        .group_by(ConsentRequest.state)
    ):
        f.open_requests[state.value] = n
    _sla(session, f, load_calendar(session), now)
    f.background_runs = {
        "import": session.scalar(
            sa.select(sa.func.count()).where(ImportBatch.state == ImportState.running)
        ),
        "campaign_queueing": session.scalar(
            sa.select(sa.func.count()).where(Campaign.state == CampaignState.queueing)
        ),
    }
    return f


def _sla(session: Session, f: Figures, calendar: BusinessCalendar, now: datetime) -> None:
    """Open requests at each of the engine's levels (`engine.at_level`) at `now`, read from
    their stored clocks as they stand (`deadlines.reached_now`: what the queue shows, whenever
    the sweep last ran); and the breach notices the sweep ever recorded (`sla_events`, its
    notification ledger: one per request that breached, kept after it closed)."""
    is_open = ConsentRequest.state.in_(OPEN_STATES)
    reached = reached_now(calendar, now)
    f.breached_open, f.at_risk = session.execute(
        sa.select(
            sa.func.count().filter(at_level(BREACHED, reached)),
            sa.func.count().filter(at_level(AT_RISK, reached)),
        ).where(is_open)
    ).one()
    f.breaches_recorded = session.scalar(
        sa.select(sa.func.count()).where(SlaEvent.threshold == SlaThreshold.breached)
    )
