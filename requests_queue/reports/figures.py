"""The dashboard's figures, aggregated by the database over `report_facts` (the history:
filings, first responses, decisions) and the clocks stored on the requests (`sla.deadlines`).

A handful of grouped queries, each one range of a covering index led by a team-local day or
an instant: decisions grouped by (day, decider), filings by day, breaches by assignee, open
requests by age and by assignee, and the one or two rows each percentile needs. The period's
totals, the weekly series and the per-agent table are sums over those groups (at most
days × agents of them).

Definitions: a *decision* is an approval or a rejection; it is *within 3 (5) business days*
when the clock ran less than 3 (5) business days before it; a *breach* belongs to the day its
5-business-day deadline fell on; *late* is clock time past that deadline. Days of the history
are the team's local dates as they were when the fact was computed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ConsentRequest, RequestState, Role, User
from ..models.reports import ReportFact
from ..models.requests import OPEN_STATES
from ..sla.engine import AT_RISK, BREACH_DAYS, BREACHED, DUE_DAYS, ON_TRACK, level
from .period import Period
from .scale import Scale, percent

F, R = ReportFact, ConsentRequest
QUANTILES = (0.5, 0.9)


def in_period(day: sa.Column, period: Period) -> sa.ColumnElement[bool]:
    """The fact's local day is one of the period's days."""
    return day.between(period.first_day, period.last_day)


def breached_in(period: Period, scale: Scale) -> sa.ColumnElement[bool]:
    """Requests whose breach deadline fell in the period and is already past."""
    breach = R.clock_breach_at
    return sa.and_(breach >= period.start, breach < period.end, breach <= scale.now)


@dataclass(frozen=True)
class Summary:
    """The period's headline numbers (durations in business seconds)."""

    decided: int
    within_due: int
    within_breach: int
    breaches: int
    late_avg_s: float | None
    late_max_s: int | None
    responses: int
    decision_s: dict[float, float | None]  # quantile -> value
    response_s: dict[float, float | None]

    @property
    def due_pct(self) -> float | None:
        """% of decisions within 3 business days."""
        return percent(self.within_due, self.decided)

    @property
    def breach_pct(self) -> float | None:
        """% of decisions within 5 business days (the promise)."""
        return percent(self.within_breach, self.decided)


@dataclass(frozen=True)
class WeekRow:
    """One team-local week (from its Monday) of the period."""

    week: date
    filed: int
    decided: int
    within_due: int
    within_breach: int

    @property
    def breach_pct(self) -> float | None:
        """% of the week's decisions within 5 business days."""
        return percent(self.within_breach, self.decided)

    @property
    def due_pct(self) -> float | None:
        """% of the week's decisions within 3 business days."""
        return percent(self.within_due, self.decided)


@dataclass(frozen=True)
class AgentRow:
    """One support user's load and results."""

    user_id: int
    name: str
    email: str
    assigned: int  # open requests they hold now
    decided: int  # decisions they made in the period
    within_breach: int
    breaches: int  # breaches in the period of requests they hold

    @property
    def breach_pct(self) -> float | None:
        """% of their decisions within 5 business days."""
        return percent(self.within_breach, self.decided)


@dataclass(frozen=True)
class PeriodFigures:
    """Everything the period decides: headline numbers, weekly series, per-agent table."""

    summary: Summary
    weekly: list[WeekRow]
    agents: list[AgentRow]


def period_figures(session: Session, period: Period, scale: Scale) -> PeriodFigures:
    """The period's figures from five grouped queries and four percentile reads."""
    decisions = session.execute(
        sa.select(
            F.decided_day,
            F.decided_by_id,
            sa.func.count(),
            sa.func.count().filter(F.decision_s < scale.due_s),
            sa.func.count().filter(F.decision_s < scale.breach_s),
        )
        .where(in_period(F.decided_day, period))
        .group_by(F.decided_day, F.decided_by_id)
    ).all()
    filed = session.execute(
        sa.select(F.filed_day, sa.func.count())
        .where(in_period(F.filed_day, period))
        .group_by(F.filed_day)
    ).all()
    late = scale.late_s()
    breaches = session.execute(
        sa.select(R.assignee_id, sa.func.count(), sa.func.sum(late), sa.func.max(late))
        .where(breached_in(period, scale))
        .group_by(R.assignee_id)
    ).all()
    held: dict[int, int] = defaultdict(int)
    # Grouped by state too, so the state-led index serves it in order (by assignee alone,
    # SQLite walks every assigned request of the assignee index instead).
    for _state, assignee, n in session.execute(
        sa.select(R.state, R.assignee_id, sa.func.count())
        .where(R.state.in_(OPEN_STATES), R.assignee_id.is_not(None))
        .group_by(R.state, R.assignee_id)
    ):
        held[assignee] += n
    responses = session.scalar(
        sa.select(sa.func.count()).where(in_period(F.first_response_day, period))
    )
    decided = sum(g[2] for g in decisions)
    broken = sum(g[1] for g in breaches)
    summary = Summary(
        decided=decided,
        within_due=sum(g[3] for g in decisions),
        within_breach=sum(g[4] for g in decisions),
        breaches=broken,
        late_avg_s=sum(g[2] for g in breaches) / broken if broken else None,
        late_max_s=max((g[3] for g in breaches), default=None),
        responses=responses,
        decision_s=quantiles(session, F.decision_s, F.decided_day, period, decided),
        response_s=quantiles(session, F.first_response_s, F.first_response_day, period, responses),
    )
    return PeriodFigures(
        summary, _weekly(period, decisions, filed), _agents(session, decisions, breaches, held)
    )


# The index each percentile walks in value order.
ORDERED_BY = {"decision_s": "ix_report_facts_decision_s",
              "first_response_s": "ix_report_facts_response_s"}  # fmt: skip


def quantiles(
    session: Session, value: sa.Column, day: sa.Column, period: Period, count: int
) -> dict[float, float | None]:
    """Median and 90th percentile of `value` over the `count` rows whose `day` is in the
    period, interpolated between neighbours as percentile_cont does."""
    if not count:
        return dict.fromkeys(QUANTILES)
    # The one or two rows around the position, read from whichever end of the value-ordered
    # index is nearer: no sort of the period's rows, whatever the planner guesses of them
    # (PostgreSQL's percentile_cont sorts them all; SQLite's planner would rather sort the
    # range, hence INDEXED BY, which SQLAlchemy cannot say, hence the text).
    indexed = (
        f"INDEXED BY {ORDERED_BY[value.key]} "
        if session.get_bind().dialect.name == "sqlite"
        else ""
    )
    neighbours = {
        order: sa.text(
            f"SELECT {value.key} FROM {F.__tablename__} {indexed}"
            f"WHERE {value.key} IS NOT NULL AND {day.key} BETWEEN :first AND :last "
            f"ORDER BY {value.key} {order} LIMIT :limit OFFSET :offset"
        ).bindparams(sa.bindparam("first", type_=day.type), sa.bindparam("last", type_=day.type))
        for order in ("ASC", "DESC")
    }
    out = {}
    for q in QUANTILES:
        position = (count - 1) * q
        low = math.floor(position)
        high = min(low + 1, count - 1)
        nearer_start = position <= (count - 1) / 2
        values = sorted(
            session.scalars(
                neighbours["ASC" if nearer_start else "DESC"],
                {
                    "first": period.first_day,
                    "last": period.last_day,
                    "limit": high - low + 1,
                    "offset": low if nearer_start else count - 1 - high,
                },
            )
        )
        out[q] = values[0] + (values[-1] - values[0]) * (position - low)
    return out


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly(period: Period, decisions, filed) -> list[WeekRow]:
    per_week: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for day, n in filed:
        per_week[_monday(day)][0] += n
    for day, _by, n, due, breach in decisions:
        totals = per_week[_monday(day)]
        totals[1], totals[2], totals[3] = totals[1] + n, totals[2] + due, totals[3] + breach
    return [WeekRow(w, *per_week.get(w, (0, 0, 0, 0))) for w in period.weeks()]


def _agents(session: Session, decisions, breaches, held: dict) -> list[AgentRow]:
    made: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for _day, by, n, _due, breach in decisions:
        made[by][0] += n
        made[by][1] += breach
    late = {assignee: n for assignee, n, _sum, _max in breaches if assignee is not None}
    involved = set(held) | set(made) | set(late)
    users = session.execute(
        sa.select(User.id, User.name, User.email).where(
            User.role.in_([Role.agent, Role.manager]),
            sa.or_(User.is_active.is_(True), User.id.in_(involved)),
        )
    ).all()
    rows = [
        AgentRow(uid, name, email, held.get(uid, 0), *made.get(uid, (0, 0)), late.get(uid, 0))
        for uid, name, email in users
    ]
    return sorted(rows, key=lambda a: ((a.name or a.email).lower(), a.user_id))


@dataclass(frozen=True)
class BacklogRow:
    """Open requests whose clock is within one age bucket."""

    label: str
    low_days: int
    high_days: int | None
    open: int
    unassigned: int
    paused: int

    @property
    def level(self) -> str:
        """The engine's level of every clock in the bucket: breached, at risk or on track."""
        return level(lambda days: self.low_days >= days)


# Business days on the clock; the due time and the breach are bucket edges, so each bucket
# is wholly on track, at risk or breached.
BUCKETS = ((0, 1), (1, DUE_DAYS), (DUE_DAYS, BREACH_DAYS), (BREACH_DAYS, None))


def open_by_level(rows: list[BacklogRow]) -> dict[str, int]:
    """Open requests now per level (ON_TRACK, AT_RISK, BREACHED) from the backlog's buckets."""
    totals = dict.fromkeys((ON_TRACK, AT_RISK, BREACHED), 0)
    for row in rows:
        totals[row.level] += row.open
    return totals


def bucket_label(low: int, high: int | None) -> str:
    """ "0–1", …, "5+" business days."""
    return f"{low}–{high}" if high is not None else f"{low}+"


def backlog(session: Session, scale: Scale) -> list[BacklogRow]:
    """Open requests now, by business days on their SLA clock (paused time excluded)."""
    clock = scale.clock_s()
    whens = [(clock < high * scale.day_s, low) for low, high in BUCKETS if high is not None]
    bucket = sa.case(*whens, else_=BUCKETS[-1][0])
    counts = {
        low: rest
        for low, *rest in session.execute(
            sa.select(
                bucket,
                sa.func.count(),
                sa.func.count().filter(R.assignee_id.is_(None)),
                sa.func.count().filter(R.state == RequestState.awaiting_customer),
            )
            .where(R.state.in_(OPEN_STATES))
            .group_by(bucket)
        )
    }
    return [
        BacklogRow(bucket_label(low, high), low, high, *counts.get(low, (0, 0, 0)))
        for low, high in BUCKETS
    ]
