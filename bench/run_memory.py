"""Issue 11 §1's memory figure: each background run's own peak resident memory, under 200 MB at
any size. A request's freeze, its approval, a double opt-in campaign's queueing and a mass
opt-out of the same addresses are each run to their end in a child process of their own, as
the scheduler's worker resumes them, so the peak printed is that run's, not the bench
process's (`harness.own_peak_mb`).

Run by `cases_requests`; `python -m bench.run_memory KIND DB_URL ID BASE_URL` is the child.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import sqlalchemy as sa

from requests_queue.models import ConsentRequest

from .harness import Bench, Result, own_peak_mb, session_for

# Only what the runs need is imported at the top, so the child loads what a worker's run needs
# and not the bench's other modules (with the web app's, about 55 MB more); `run` imports the
# rest for the parent.
LIMIT_MB = 200


def _child_run(bench: Bench, backend: str, engine: sa.Engine, kind: str, key: int, label: str):
    """Run `kind`'s background run for `key` in a child process; record its own peak."""
    from .cases_requests import BASE_URL

    db_url = engine.url.render_as_string(hide_password=False)
    out = subprocess.run(
        [sys.executable, "-m", "bench.run_memory", kind, db_url, str(key), BASE_URL],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["state"] in ("done", "queued"), figures  # a campaign ends "queued": to send
    record = bench.record(
        Result(
            f"background run's own peak memory: {label}",
            backend,
            figures["seconds"],
            rows=figures["rows"],
            peak_rss_mb=figures["peak_rss_mb"],
            limit=f"peak < {LIMIT_MB} MB",
            extra={"before_run_mb": figures["before_run_mb"]},
        )
    )
    print(
        f"   of which {record.extra['before_run_mb']:.0f} MB before the run (imports)", flush=True
    )


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """File and approve a mass opt-in of `size` addresses, then opt them all out: each
    decision recorded here, each run done in a child."""
    from requests_queue.campaigns import create_campaign, provided_content
    from requests_queue.mass_actions import Direction, preview, record_opt_out
    from requests_queue.models import RequestState, Role
    from requests_queue.requests.approval import approve_request, confirm_approval
    from requests_queue.requests.filing import file_request
    from requests_queue.requests.lifecycle import claim_request
    from requests_queue.requests.targets import OptInTarget
    from requests_queue.selection import ContactFilter
    from requests_queue.statuses import Actor, ActorKind

    from .cases_requests import BASE_URL, CHECKED, EVIDENCE, FIELDS, NOW
    from .data import analyze, fill_account, make_user
    from .harness import fresh_database

    with fresh_database(backend, url) as engine:
        acc = fill_account(engine, "Memory Co", size // 2, fields=2)
        customer = Actor(
            ActorKind.customer, make_user(engine, "m@bench.example", Role.customer, acc)
        )
        agent = Actor(ActorKind.agent, make_user(engine, "a@bench.example", Role.agent))
        second = Actor(ActorKind.agent, make_user(engine, "b@bench.example", Role.agent))
        analyze(engine)
        with session_for(engine) as s:
            target = OptInTarget(ContactFilter(account_id=acc), FIELDS)
            req = file_request(s, target, EVIDENCE, customer, NOW, base_url=BASE_URL, inline_max=0)
            s.commit()
            request_id = req.id
        _child_run(bench, backend, engine, "freeze", request_id, "freezing a filed request")
        with session_for(engine) as s:
            req = s.get(ConsentRequest, request_id)
            claim_request(s, req, agent, NOW)
            decide = {"checklist": CHECKED, "base_url": BASE_URL, "inline_max": 0}
            approve_request(s, req, agent, NOW, **decide)
            if req.state is RequestState.pending_second_review:
                confirm_approval(s, req, second, NOW, **decide)
            s.commit()
        _child_run(bench, backend, engine, "approval", request_id, "applying an approval")
        with session_for(engine) as s:  # the addresses are single opt-in now: confirm them
            campaign = create_campaign(
                s, ContactFilter(account_id=acc), FIELDS, provided_content(), customer, NOW
            )
            s.commit()
            assert campaign.expected_count == size, (campaign.expected_count, size)
            campaign_id = campaign.id
        _child_run(bench, backend, engine, "campaign", campaign_id, "queueing a campaign")
        with session_for(engine) as s:
            flt = ContactFilter(account_id=acc)
            expected = preview(s, flt, FIELDS, Direction.opt_out).changing
            assert expected == size, (expected, size)
            batch = record_opt_out(s, flt, FIELDS, customer, NOW, expected)
            s.commit()
            batch_id = batch.id
        _child_run(bench, backend, engine, "mass_opt_out", batch_id, "a mass opt-out")


def _child(kind: str, db_url: str, key: int, base_url: str) -> None:
    """One background run to its end, on an engine with the app's own settings."""
    from requests_queue.campaigns import RecipientLinks, run_campaign_queueing
    from requests_queue.mass_runs import run_mass_opt_out
    from requests_queue.models import Campaign, MassAction, RequestFreeze
    from requests_queue.requests.applying import run_approval
    from requests_queue.requests.freezing import run_freeze
    from support.database import _sqlite_pragmas

    engine = sa.create_engine(db_url)
    if engine.dialect.name == "sqlite":  # the app's own settings, not the bench's big cache
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    before_run_mb = own_peak_mb()  # the interpreter and the domain's modules, loaded
    start = time.perf_counter()
    if kind == "freeze":
        state = run_freeze(engine, key)
    elif kind == "approval":
        state = run_approval(engine, key, base_url)
    elif kind == "campaign":
        state = run_campaign_queueing(engine, key, RecipientLinks("bench-secret", base_url))
    else:
        state = run_mass_opt_out(engine, key)
    seconds = time.perf_counter() - start
    with session_for(engine) as s:
        if kind == "freeze":
            rows = s.get(RequestFreeze, key).frozen_count
        elif kind == "approval":
            rows = s.get(ConsentRequest, key).changed_count
        elif kind == "campaign":
            rows = s.get(Campaign, key).recipient_count
        else:
            rows = s.get(MassAction, key).changed_count
    figures = {
        "state": getattr(state, "value", str(state)),
        "seconds": seconds,
        "rows": rows,
        "peak_rss_mb": round(own_peak_mb(), 1),
        "before_run_mb": round(before_run_mb, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
