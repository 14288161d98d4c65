"""Issue 10, one SLA engine: the digest, the metrics and the escalation ranking count open
requests by the level their stored clock shows now, as the queue does, whether or not the SLA
sweep has run since (its `sla_events` are a notification ledger, not a level)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from requests_queue.calendar_store import add_holiday, load_calendar
from requests_queue.jobs.figures import sample
from requests_queue.models import ConsentRequest, Role, SlaEvent
from requests_queue.models import RequestState as S
from requests_queue.requests.timeline import request_timelines
from requests_queue.sla.clock import request_sla
from requests_queue.sla.countdown import queue_countdowns
from requests_queue.sla.digest import digest_numbers
from requests_queue.sla.engine import AT_RISK, BREACHED
from requests_queue.sla.escalation import agents_with_most_at_risk
from requests_queue.sla.line import micros
from requests_queue.sla.sweep import sweep_sla
from tests.conftest import actor_of, play_timeline

PHX = ZoneInfo("America/Phoenix")  # the default calendar: Mon-Fri 09:00-17:00, US holidays
URL = "http://desk.example"
PAST_DUE = (AT_RISK, BREACHED)


def at(d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An instant in October 2026, team time (no public holiday from the 19th to the 30th)."""
    return datetime(2026, 10, d, hh, mm, tzinfo=PHX)


NOW = at(29, 12)  # Thursday


@pytest.fixture
def bob(make_user):
    return make_user("bob@support.example", Role.agent)


@pytest.fixture
def desk(session, customer, agent, bob):
    """Requests at every level on Thursday 29 October at noon; the sweep has never run."""
    c = customer

    def play(*steps):
        return play_timeline(session, c, [(steps[0], "file", c), *steps[1:]])

    made = {
        # 3 business days and 3 hours on the clock: at risk since this morning.
        "at_risk": play(at(26), (at(26, 9, 30), "claim", agent)),
        # 5 days reached Wednesday 28 October at 10:00.
        "breached": play(at(21, 10), (at(21, 11), "claim", agent)),
        # Asked after 3 and a half days: stopped past its due time, still at risk.
        "asked_late": play(at(19), (at(19, 9, 30), "claim", agent), (at(22, 13), "ask", agent)),
        # Asked after 2 days: eight business days since filing, but its clock stopped short.
        "asked_early": play(at(19), (at(19, 9, 30), "claim", bob), (at(21), "ask", bob)),
        # 1 day, then a wait, then 3 days and 3 hours more: at risk from its stored base.
        "resumed": play(
            at(19), (at(19, 9, 30), "claim", bob), (at(20), "ask", bob), (at(26), "answer", c)
        ),
        "on_track": play(at(28), (at(28, 9, 30), "claim", bob)),
        "unassigned": play(at(26)),  # at risk, nobody holds it
        "approved": play(at(19), (at(19, 9, 30), "claim", agent), (at(20), "approve", agent)),
    }
    assert session.scalar(sa.select(sa.func.count()).select_from(SlaEvent)) == 0
    return {name: req.id for name, req in made.items()}


def timeline_levels(session, calendar, now, ids) -> dict[int, tuple[str, datetime, int | None]]:
    """The oracle: (level, due time, assignee) of each open request, from its whole timeline
    through the engine's clock (`request_sla`); no stored clock, no SQL level."""
    held = dict(session.execute(sa.select(ConsentRequest.id, ConsentRequest.assignee_id)).all())
    out = {}
    for request_id, timeline in request_timelines(session, ids).items():
        sla = request_sla(calendar, timeline, now)
        if sla.state.is_open:
            waiting = sla.state is S.awaiting_customer
            level = sla.clock.level(micros(now), paused=waiting)
            out[request_id] = (level, sla.due_at, held[request_id])
    return out


def queue_levels(session, calendar, now, ids) -> dict[int, str]:
    """The level of each open request as the queue's countdown shows it."""
    session.expire_all()
    rows = session.scalars(sa.select(ConsentRequest).where(ConsentRequest.id.in_(ids))).all()
    return {i: c.level for i, c in queue_countdowns(session, calendar, rows, now).items()}


def by_level(levels) -> tuple[int, int]:
    """(breached, at risk) among `levels`."""
    counts = Counter(levels)
    return counts[BREACHED], counts[AT_RISK]


def ranking_of(levels: dict[int, tuple[str, datetime, int | None]]):
    """The oracle's escalation ranking: (assignee, past due, breached, longest past due)."""
    held: dict[int, list[tuple[str, datetime, int]]] = {}
    for request_id, (level, due, assignee) in levels.items():
        if assignee is not None and level in PAST_DUE:
            held.setdefault(assignee, []).append((level, due, request_id))
    ranked = sorted(held.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        (
            assignee,
            len(mine),
            sum(level == BREACHED for level, _, _ in mine),
            [i for _, _, i in sorted(mine, key=lambda x: (x[1], x[2]))][:3],
        )
        for assignee, mine in ranked
    ]


def test_the_digest_counts_what_the_clocks_show_with_no_sweep_run(session, desk):
    calendar = load_calendar(session)
    numbers = digest_numbers(session, calendar, NOW)
    # Past 5 business days: breached; past 3: at risk, asked late included; asked early is not.
    assert numbers == {"open": 7, "breached": 1, "at_risk": 4, "unassigned": 1}
    oracle = timeline_levels(session, calendar, NOW, desk.values())
    assert by_level(level for level, _, _ in oracle.values()) == (1, 4)
    assert by_level(queue_levels(session, calendar, NOW, desk.values()).values()) == (1, 4)
    assert oracle[desk["asked_early"]][0] not in PAST_DUE


def test_the_metrics_count_what_the_clocks_show_with_no_sweep_run(session, desk):
    figures = sample(session, NOW)
    assert (figures.breached_open, figures.at_risk) == (1, 4)
    assert figures.breaches_recorded == 0  # no notice was ever recorded: that is the ledger


def test_the_escalation_ranking_counts_what_the_clocks_show_with_no_sweep_run(
    session, desk, agent, bob
):
    calendar = load_calendar(session)
    ranking = agents_with_most_at_risk(session, calendar, NOW)
    got = [(a.user.id, a.at_risk, a.breached, [i for i, _ in a.oldest]) for a in ranking]
    # The agent: breached, asked late, at risk, longest past due first (the waiting one was
    # due Wednesday 21st); Bob: only the resumed one (asked early and on track are not).
    assert got == [
        (agent.id, 3, 1, [desk["asked_late"], desk["breached"], desk["at_risk"]]),
        (bob.id, 1, 0, [desk["resumed"]]),
    ]
    assert got == ranking_of(timeline_levels(session, calendar, NOW, desk.values()))
    assert all(holder == a.user.id for a in ranking for _, holder in a.oldest)


@pytest.mark.parametrize(
    "now",
    [at(20, 12), at(22, 9, 30), at(22, 17), at(26, 10), at(28, 10), at(28, 11), NOW, at(31, 12)],
)
def test_every_count_matches_the_timeline_oracle_and_the_queue_at_any_time(session, desk, now):
    calendar = load_calendar(session)
    ids = list(desk.values())
    oracle = timeline_levels(session, calendar, now, ids)
    want = by_level(level for level, _, _ in oracle.values())
    assert by_level(queue_levels(session, calendar, now, ids).values()) == want
    numbers = digest_numbers(session, calendar, now)
    assert (numbers["breached"], numbers["at_risk"]) == want
    figures = sample(session, now)
    assert (figures.breached_open, figures.at_risk) == want
    ranking = agents_with_most_at_risk(session, calendar, now)
    got = [(a.user.id, a.at_risk, a.breached, [i for i, _ in a.oldest]) for a in ranking]
    assert got == ranking_of(oracle)


def counts(session, calendar, now) -> tuple[tuple[int, int], tuple[int, int], list]:
    """(digest, metrics, ranking) as (breached, at risk) and (assignee, past due, breached)."""
    numbers = digest_numbers(session, calendar, now)
    figures = sample(session, now)
    ranking = agents_with_most_at_risk(session, calendar, now)
    return (
        (numbers["breached"], numbers["at_risk"]),
        (figures.breached_open, figures.at_risk),
        [(a.user.id, a.at_risk, a.breached) for a in ranking],
    )


def test_after_a_calendar_edit_the_counts_follow_the_queue_until_the_sweep_and_after(
    session, customer, agent, manager
):
    c, now = customer, at(26, 10)  # Monday
    # Ran Mon 19 to Thu 22 13:00 (3.5 days, due Wed 21 at 17:00), waited, resumed this morning.
    waited = play_timeline(
        session, c,
        [(at(19), "file", c), (at(19), "claim", agent), (at(22, 13), "ask", agent),
         (at(26), "answer", c)],
    )  # fmt: skip
    # Filed Wednesday 21: 3 days and an hour on the clock.
    running = play_timeline(session, c, [(at(21), "file", c), (at(21), "claim", agent)])
    sweep_sla(session, load_calendar(session), now, base_url=URL)
    session.commit()
    ids = [waited.id, running.id]
    assert queue_levels(session, load_calendar(session), now, ids) == {
        waited.id: AT_RISK,
        running.id: AT_RISK,
    }
    assert counts(session, load_calendar(session), now) == ((0, 2), (0, 2), [(agent.id, 2, 0)])

    # Wednesday 21 becomes a company holiday: both clocks lose a day. The one filed that day
    # is on track at once (nothing stored); the waited one's stored clock is stale, and the
    # queue still shows the due time it stored, until the sweep recomputes it.
    add_holiday(session, date(2026, 10, 21), "Offsite", actor_of(manager), now)
    session.commit()
    calendar = load_calendar(session)
    assert queue_levels(session, calendar, now, ids) == {waited.id: AT_RISK, running.id: "on_track"}
    assert counts(session, calendar, now) == ((0, 1), (0, 1), [(agent.id, 1, 0)])

    sweep_sla(session, calendar, now, base_url=URL)  # recomputes the stale clock
    session.commit()
    assert queue_levels(session, calendar, now, ids) == {
        waited.id: "on_track",
        running.id: "on_track",
    }
    oracle = timeline_levels(session, calendar, now, ids)
    assert {level for level, _, _ in oracle.values()} == {"on_track"}
    assert counts(session, calendar, now) == ((0, 0), (0, 0), [])
    # The notices stay in the ledger: the sweep announced both, once.
    assert session.scalar(sa.select(sa.func.count()).select_from(SlaEvent)) == 2
