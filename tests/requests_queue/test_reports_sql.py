"""The dashboard's numbers equal a plain SQL query over the request events.

`independent_figures` knows nothing of report_facts, the calendar code or the business line: it
derives each request's running stretches from `request_events` with LEAD(), intersects them
in SQL with business windows written out here (Mon-Fri 09:00-17:00 Phoenix = 16:00-24:00 UTC,
minus the `holidays` package's US days), and counts. Thirty seeded random timelines run
through the domain operations, over Veterans Day and Thanksgiving.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import holidays
import numpy
import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import load_calendar
from requests_queue.models import Role
from requests_queue.reports import Period, between, build_dashboard, last_days, refresh_report_facts
from tests.conftest import play_timeline

DAY_S, DUE_S, BREACH_S = 8 * 3600, 24 * 3600, 40 * 3600
PHX_OFFSET = timedelta(hours=7)  # Phoenix keeps UTC-7 all year
NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # Wednesday 25 November, 12:00 in Phoenix
FIRST = datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # Monday 26 October, 00:00 in Phoenix


def _windows() -> list[tuple[datetime, datetime]]:
    us = holidays.country_holidays("US", years=2026)
    days = (date(2026, 10, 1) + timedelta(days=n) for n in range(92))
    midnights = (
        datetime(d.year, d.month, d.day, tzinfo=UTC)
        for d in days
        if d.weekday() < 5 and d not in us
    )
    return [(m + timedelta(hours=16), m + timedelta(days=1)) for m in midnights]


class Sql:
    """The few spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        self.least, self.greatest = ("LEAST", "GREATEST") if self.pg else ("min", "max")

    def ts(self, value: datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive if self.pg else naive.strftime("%Y-%m-%d %H:%M:%S.%f")

    def param(self, name: str) -> str:
        return f"CAST(:{name} AS timestamp)" if self.pg else f":{name}"

    def seconds(self, a: str, b: str) -> str:
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({b}) - ({a}))"
        return f"((julianday({b}) - julianday({a})) * 86400.0)"

    def overlap(self, until: str) -> str:
        """Seconds of piece p inside window w before `until`."""
        lo = f"{self.greatest}(p.s, w.opens)"
        hi = f"{self.least}(p.e, w.closes, {until})"
        return f"CASE WHEN {hi} > {lo} THEN {self.seconds(lo, hi)} ELSE 0 END"


def _per_request_sql(sql: Sql, windows: int) -> str:
    values = ", ".join(f"({sql.param(f'o{i}')}, {sql.param(f'c{i}')})" for i in range(windows))
    now, start, stop = sql.param("now"), sql.param("start"), sql.param("stop")
    return f"""
    WITH windows(opens, closes) AS (VALUES {values}),
    moves AS (
        SELECT request_id, to_state, created_at AS s,
               LEAD(created_at) OVER (PARTITION BY request_id ORDER BY id) AS next_at
        FROM request_events),
    pieces AS (
        SELECT request_id, s, COALESCE(next_at, {now}) AS e FROM moves
        WHERE to_state IN ('submitted', 'in_review')),
    marks AS (
        SELECT request_id,
            MIN(CASE WHEN kind = 'filed' THEN created_at END) AS filed_at,
            MIN(CASE WHEN kind IN ('claimed', 'assigned', 'question') THEN created_at END)
                AS first_at,
            MIN(CASE WHEN kind IN ('approved', 'rejected') THEN created_at END) AS decided_at,
            MAX(id) AS last_id,
            MAX(CASE WHEN assignee_id IS NOT NULL THEN id END) AS assigned_id
        FROM request_events GROUP BY request_id),
    clocks AS (
        SELECT p.request_id,
            SUM({sql.overlap(now)}) AS now_s,
            SUM({sql.overlap(start)}) AS start_s,
            SUM({sql.overlap(stop)}) AS stop_s,
            SUM({sql.overlap("COALESCE(m.first_at, m.filed_at)")}) AS first_s,
            SUM({sql.overlap("COALESCE(m.decided_at, m.filed_at)")}) AS decided_s
        FROM pieces p JOIN marks m ON m.request_id = p.request_id
        JOIN windows w ON w.opens < p.e AND w.closes > p.s
        GROUP BY p.request_id),
    facts AS (
        SELECT m.request_id, m.filed_at, m.first_at, m.decided_at,
            last.to_state IN ('submitted', 'in_review', 'awaiting_customer') AS is_open,
            held.assignee_id, decision.actor_user_id AS decided_by,
            COALESCE(c.now_s, 0) AS now_s, COALESCE(c.start_s, 0) AS start_s,
            COALESCE(c.stop_s, 0) AS stop_s, COALESCE(c.first_s, 0) AS first_s,
            COALESCE(c.decided_s, 0) AS decided_s
        FROM marks m
        JOIN request_events last ON last.id = m.last_id
        LEFT JOIN request_events held ON held.id = m.assigned_id
        LEFT JOIN request_events decision ON decision.request_id = m.request_id
            AND decision.created_at = m.decided_at AND decision.kind IN ('approved', 'rejected')
        LEFT JOIN clocks c ON c.request_id = m.request_id)
    """


def independent_figures(session, period: Period, now: datetime) -> dict:
    """The dashboard's figures from request_events and written-out business windows only."""
    sql = Sql(session.get_bind().dialect.name)
    windows = _windows()
    params = {"now": sql.ts(now), "start": sql.ts(period.start),
              "stop": sql.ts(min(period.end, now)), "end": sql.ts(period.end)}  # fmt: skip
    for i, (opens, closes) in enumerate(windows):
        params[f"o{i}"], params[f"c{i}"] = sql.ts(opens), sql.ts(closes)
    head = _per_request_sql(sql, len(windows))
    start, end = sql.param("start"), sql.param("end")
    decided = f"decided_at >= {start} AND decided_at < {end}"
    breached = f"stop_s >= {BREACH_S} AND start_s < {BREACH_S}"
    responded = f"first_at >= {start} AND first_at < {end}"

    def one(select: str):
        return tuple(map(_number, session.execute(sa.text(head + select), params).one()))

    def rows(select: str):
        return [tuple(map(_number, row)) for row in session.execute(sa.text(head + select), params)]

    ok5 = f"SUM(CASE WHEN decided_s < {BREACH_S} THEN 1 ELSE 0 END)"
    out = {}
    out["decided"], out["within_due"], out["within_breach"] = one(
        f"SELECT COUNT(*), SUM(CASE WHEN decided_s < {DUE_S} THEN 1 ELSE 0 END), {ok5} "
        f"FROM facts WHERE {decided}"
    )
    out["breaches"], out["late_avg_s"], out["late_max_s"] = one(
        f"SELECT COUNT(*), AVG(now_s - {BREACH_S}), MAX(now_s - {BREACH_S}) "
        f"FROM facts WHERE {breached}"
    )
    values = [v for (v,) in rows(f"SELECT decided_s FROM facts WHERE {decided}")]
    out["decision_s"] = _percentiles(values)
    values = [v for (v,) in rows(f"SELECT first_s FROM facts WHERE {responded}")]
    out["responses"], out["response_s"] = len(values), _percentiles(values)
    bucket = (
        f"CASE WHEN now_s < {DAY_S} THEN 0 WHEN now_s < {3 * DAY_S} THEN 1 "
        f"WHEN now_s < {5 * DAY_S} THEN 3 ELSE 5 END"
    )
    out["backlog"] = dict(
        rows(f"SELECT {bucket}, COUNT(*) FROM facts WHERE is_open GROUP BY {bucket}")
    )

    def ids(where: str) -> set[int]:
        return {r for (r,) in rows(f"SELECT request_id FROM facts WHERE {where}")}

    out["breached_now"] = ids(f"is_open AND now_s >= {BREACH_S}")
    out["at_risk_now"] = ids(f"is_open AND now_s >= {DUE_S} AND now_s < {BREACH_S}")
    out["breach_ids"] = ids(breached)
    agents: dict[int, list[int]] = {}
    by_holder = "AND assignee_id IS NOT NULL GROUP BY assignee_id"
    for uid, n in rows(f"SELECT assignee_id, COUNT(*) FROM facts WHERE is_open {by_holder}"):
        agents.setdefault(uid, [0, 0, 0, 0])[0] = n
    by_decider = f"FROM facts WHERE {decided} GROUP BY decided_by"
    for uid, n, ok in rows(f"SELECT decided_by, COUNT(*), {ok5} {by_decider}"):
        agents.setdefault(uid, [0, 0, 0, 0])[1:3] = [n, ok]
    for uid, n in rows(f"SELECT assignee_id, COUNT(*) FROM facts WHERE {breached} {by_holder}"):
        agents.setdefault(uid, [0, 0, 0, 0])[3] = n
    out["agents"] = {uid: tuple(v) for uid, v in agents.items()}
    out["weekly"] = []
    lo_p, hi_p = sql.param("lo"), sql.param("hi")
    for monday in period.weeks():
        lo = max(datetime.combine(monday, datetime.min.time(), UTC) + PHX_OFFSET, period.start)
        hi = min(lo + timedelta(days=7 - (lo - PHX_OFFSET).weekday()), period.end)
        params.update(lo=sql.ts(lo), hi=sql.ts(hi))
        (filed,) = one(f"SELECT COUNT(*) FROM facts WHERE filed_at >= {lo_p} AND filed_at < {hi_p}")
        made, ok = one(
            f"SELECT COUNT(*), {ok5} FROM facts WHERE decided_at >= {lo_p} AND decided_at < {hi_p}"
        )
        out["weekly"].append((monday, filed, made, ok or 0))
    return out


def _number(value):
    """PostgreSQL's EXTRACT gives numeric (Decimal); compare plain floats."""
    return float(value) if isinstance(value, Decimal) else value


def _percentiles(values: list[float]) -> dict[float, float | None]:
    if not values:
        return {0.5: None, 0.9: None}
    return {q: float(numpy.percentile(values, q * 100)) for q in (0.5, 0.9)}


def random_timelines(session, customer, agents, manager, count: int = 30) -> None:
    """Seeded timelines: filed any hour, claimed or assigned, paused, decided or left open."""
    rng = random.Random(6)
    hours = lambda lo, hi: timedelta(minutes=rng.randint(lo * 60, hi * 60))  # noqa: E731
    for _ in range(count):
        t = FIRST + timedelta(minutes=rng.randint(0, 29 * 24 * 60))
        steps = [(t, "file", customer)]
        roll = rng.random()
        if roll < 0.1:
            steps.append((t + hours(1, 30), "withdraw", customer))
        elif roll < 0.85:
            t += hours(0, 120)
            handler = rng.choice(agents)
            if rng.random() < 0.3:
                steps.append((t, "assign", manager, handler))
            else:
                steps.append((t, "claim", handler))
            if rng.random() < 0.4:
                t += hours(1, 40)
                steps.append((t, "ask", handler))
                if rng.random() < 0.8:
                    t += hours(2, 150)
                    steps.append((t, "answer", customer))
            if steps[-1][1] != "ask" and rng.random() < 0.75:
                t += hours(1, 90)
                steps.append((t, rng.choice(["approve", "approve", "reject"]), handler))
        play_timeline(session, customer, [s for s in steps if s[0] < NOW])


@pytest.fixture
def timelines(session, customer, agent, manager, make_user):
    """Thirty random requests handled by two agents and a manager."""
    other = make_user("second@support.example", Role.agent)
    random_timelines(session, customer, [agent, other, manager], manager)
    refresh_report_facts(session, load_calendar(session), NOW)
    session.commit()


@pytest.mark.parametrize("which", ["november", "last_7_days", "last_90_days"])
def test_dashboard_equals_a_plain_sql_query_over_the_events(session, timelines, which):
    calendar = load_calendar(session)
    period = {
        "november": lambda: between(calendar, NOW, date(2026, 11, 2), date(2026, 11, 20)),
        "last_7_days": lambda: last_days(calendar, NOW, 7),
        "last_90_days": lambda: last_days(calendar, NOW, 90),
    }[which]()
    board = build_dashboard(session, calendar, period, NOW, list_limit=None)
    want = independent_figures(session, period, NOW)
    s = board.summary
    assert want["decided"] > 0 and want["breaches"] > 0 or which == "last_7_days"
    assert (s.decided, s.within_due, s.within_breach) == (
        want["decided"], want["within_due"] or 0, want["within_breach"] or 0)  # fmt: skip
    assert s.breaches == board.breaches_total == want["breaches"]
    assert {r.request_id for r in board.breaches} == want["breach_ids"]
    assert s.late_max_s == pytest.approx(want["late_max_s"], abs=1)
    assert s.late_avg_s == pytest.approx(want["late_avg_s"], abs=1)
    assert s.decision_s == pytest.approx(want["decision_s"], abs=1)
    assert s.responses == want["responses"]
    assert s.response_s == pytest.approx(want["response_s"], abs=1)
    assert {b.low_days: b.open for b in board.backlog if b.open} == want["backlog"]
    assert {r.request_id for r in board.breached} == want["breached_now"]
    assert {r.request_id for r in board.at_risk} == want["at_risk_now"]
    agents = {a.user_id: (a.assigned, a.decided, a.within_breach, a.breaches) for a in board.agents}
    assert {u: v for u, v in agents.items() if any(v)} == want["agents"]
    weekly = [(w.week, w.filed, w.decided, w.within_breach) for w in board.weekly]
    assert weekly == want["weekly"]
