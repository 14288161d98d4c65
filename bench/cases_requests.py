"""Issue 5's figures: approving a mass opt-in vs its plain-SQL floor (the queue page's figures
are `cases_queue`).

Issue 11 §1: the customer's filing and the agents' approval go through the web app (a test
client, as the browser posts the forms), and the background runs it starts are waited for;
every page and POST on the way is timed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from requests_queue.models import (
    ApplyState,
    ConsentRequest,
    EmailField,
    FreezeState,
    ListSource,
    RequestApplication,
    RequestFreeze,
    RequestKind,
    RequestState,
    Role,
)
from requests_queue.requests.evidence import CHECKLIST, EvidenceInput
from support import background

from . import floors
from .data import BENCH_PASSWORD, analyze, fill_account, make_user, settle
from .harness import Bench, Result, fresh_database, median_time, session_for, timed, web_app

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
FIELDS = (EmailField.email, EmailField.email2)
BASE_URL = "http://bench.example"
PASSWORD = BENCH_PASSWORD
EVIDENCE = EvidenceInput(
    reason="Imported without the permission flag from our own sign-up form.",
    last_sent="never",
    explicit_permission="yes",
    permission_details="Every contact ticked an unticked newsletter box on our website form.",
    form_links=("https://bench.example/signup",),
    list_source="website_form",
    attested=True,
)


def _bare_request(engine: sa.Engine, account_id: int, user_id: int) -> int:
    """A request row for the floor's events to name (the floor writes no selection)."""
    with session_for(engine) as s:
        req = ConsentRequest(
            account_id=account_id,
            kind=RequestKind.mass_opt_in,
            state=RequestState.in_review,
            filed_by_id=user_id,
            filed_at=NOW,
            selection="all contacts",
            fields="email,email2",
            reason=EVIDENCE.reason,
            never_sent=True,
            permission_details=EVIDENCE.permission_details,
            form_links=list(EVIDENCE.form_links),
            list_source=ListSource.website_form,
        )
        s.add(req)
        s.commit()
        return req.id


def _floor(engine: sa.Engine, account_id: int, agent_id: int, request_id: int) -> int:
    """The approval's status writes by hand: one INSERT … SELECT of events, one UPDATE."""
    p = {"acc": account_id, "uid": agent_id, "rid": request_id, "now": NOW.replace(tzinfo=None)}
    where = "account_id = :acc AND status = 'non_marketable'"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO status_events (account_id, address_id, from_status, to_status, "
                "created_at, actor_kind, actor_user_id, request_id, note) "
                "SELECT account_id, id, status, 'single_opt_in', :now, 'agent', :uid, :rid, '' "
                f"FROM email_addresses WHERE {where}"
            ),
            p,
        )
        return conn.execute(
            sa.text(
                "UPDATE email_addresses SET status = 'single_opt_in', status_changed_at = :now "
                f"WHERE {where}"
            ),
            p,
        ).rowcount


FILING_FORM = {
    "reason": EVIDENCE.reason,
    "never_sent": "y",
    "explicit_permission": "yes",
    "permission_details": EVIDENCE.permission_details,
    "form_links": "\n".join(EVIDENCE.form_links),
    "list_source": EVIDENCE.list_source,
    "attested": "y",
}
CHECKED = [k for k, _ in CHECKLIST]
OPT_IN_PREVIEW = "/mass-actions/new?direction=opt_in&fields=email&fields=email2"
REQUEST_FORM = "/requests/new/opt-in?fields=email&fields=email2"


def _logged_in(app, email: str):
    """A test client of the web app with `email` logged in, as that person's browser."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _post(client, path: str, data: dict) -> tuple[float, object]:
    """POST a form as the browser does; (seconds until the answer, the redirect answer)."""
    start = time.perf_counter()
    response = client.post(path, data=data)
    seconds = time.perf_counter() - start
    assert response.status_code == 302, (path, response.status_code)
    return seconds, response


def _page(client, path: str, data: dict | None = None) -> float:
    """Median seconds of three GETs of `path` (or POSTs of `data` that answer a page)."""

    def fetch():
        response = client.get(path) if data is None else client.post(path, data=data)
        assert response.status_code == 200, (path, response.status_code)

    return median_time(fetch, repeat=3)


class _Desk:
    """The web app on the bench database and the browsers of the customer and two agents."""

    def __init__(self, engine: sa.Engine) -> None:
        self.app, self.app_engine = web_app(engine), engine
        self.customer = _logged_in(self.app, "bench@bench.example")
        self.agent = _logged_in(self.app, "agent@bench.example")
        self.second = _logged_in(self.app, "second@bench.example")
        self.posts: dict[str, float] = {}
        self.pages: dict[str, float] = {}

    def file(self, customer=None, timed_pages: bool = True) -> tuple[int, float]:
        """The customer's way to a filed mass opt-in request: the opt-in preview, the request
        form, the filing click; then the background run the web app started records the
        selection. (Request id, seconds from the click until the selection is recorded.)"""
        client = customer or self.customer
        if timed_pages:
            self.pages["page: mass opt-in preview (eligible count, the customer)"] = _page(
                client, OPT_IN_PREVIEW
            )
            self.pages["page: the request form with its selection (the customer)"] = _page(
                client, REQUEST_FORM
            )
        else:
            _page(client, OPT_IN_PREVIEW), _page(client, REQUEST_FORM)
        start = time.perf_counter()
        post_s, response = _post(client, REQUEST_FORM, FILING_FORM)
        background.wait("freeze", timeout=3600)  # the run the web app started, not another
        end_to_end = time.perf_counter() - start
        self.posts["POST file the request (the customer's click)"] = post_s
        request_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
        if timed_pages:
            self.pages["page: request filed (the customer)"] = _page(
                client, f"/requests/{request_id}/filed"
            )
        claim_s, _ = _post(self.agent, f"/desk/requests/{request_id}/claim", {})
        self.posts["POST claim the request (the agent)"] = claim_s
        return request_id, end_to_end

    def approve(self, request_id: int, timed_pages: bool = True) -> float:
        """The agent's review page, the first press of "Approve and apply" (which says what
        approving will do, eligibility counted now), the confirming press; above the
        four-eyes threshold (issue 15) the second agent's page and confirmation; then the
        background run the web app started applies it. (Seconds of the clicks and the run.)"""
        review = f"/desk/requests/{request_id}"
        approve = {"checklist": CHECKED}
        if timed_pages:
            self.pages["page: an open request's review page (agent, eligibility now)"] = _page(
                self.agent, review
            )
            self.pages["page: approve, first press: what approving will do (agent)"] = _page(
                self.agent, f"{review}/approve", approve
            )
        approve_s, _ = _post(self.agent, f"{review}/approve", {**approve, "confirmed": "yes"})
        self.posts["POST approve (the agent's confirming press)"] = approve_s
        end_to_end = approve_s
        with session_for(self.app_engine) as s:
            state = s.get(ConsentRequest, request_id).state
        if state is RequestState.pending_second_review:
            if timed_pages:
                self.pages["page: the review page awaiting a second agent (agent)"] = _page(
                    self.second, review
                )
            start = time.perf_counter()
            confirm_s, _ = _post(self.second, f"{review}/confirm", approve)
            self.posts["POST confirm (the second agent's click)"] = confirm_s
        else:
            start = time.perf_counter()
        background.wait("approval", timeout=3600)  # the run the web app started
        return end_to_end + time.perf_counter() - start

    def close(self) -> None:
        with self.app.app_context():
            from support.extensions import db

            db.engine.dispose()


def _warm_up(engine: sa.Engine, desk: _Desk) -> None:
    """File and approve a one-address request through the app first: a running app has its
    templates and SQL compiled already."""
    acc = fill_account(engine, "Warm-up Co", 1, fields=2)
    make_user(engine, "warm@bench.example", Role.customer, acc)
    request_id, _ = desk.file(_logged_in(desk.app, "warm@bench.example"), timed_pages=False)
    desk.approve(request_id, timed_pages=False)
    desk.posts.clear()


def _approval(bench: Bench, backend: str, url: str, size: int) -> None:
    with fresh_database(backend, url) as engine:
        floor_acc = fill_account(engine, "Floor Co", size // 2, fields=2)
        acc = fill_account(engine, "Bench Co", size // 2, fields=2)
        floor_user = make_user(engine, "floor@bench.example", Role.customer, floor_acc)
        make_user(engine, "bench@bench.example", Role.customer, acc)
        agent = make_user(engine, "agent@bench.example", Role.agent)
        make_user(engine, "second@bench.example", Role.agent)
        floor_request = _bare_request(engine, floor_acc, floor_user)
        # As a database in use is: statistics current and the pages all-visible (autovacuum),
        # so counts over an account read its index alone (see cases_contacts).
        analyze(engine)
        settle(engine)
        desk = _Desk(engine)
        _warm_up(engine, desk)

        request_id, file_s = desk.file()
        bench.record(
            Result(
                "request: file mass opt-in through the app, end to end (click, frozen in bg)",
                backend,
                file_s,
                rows=size,
            )
        )
        selected = (
            "account_id = :acc AND field IN ('email', 'email2') AND status = 'non_marketable'"
        )
        settle(engine)  # each timed bulk run starts settled, the floors as the product's
        physical_s, physical_rows = timed(lambda: floors.selection(engine, selected, {"acc": acc}))
        assert physical_rows == size, (physical_rows, size)
        bench.record(
            Result(
                "request: filing end to end vs its physical floor (the selected ids written "
                "to an unindexed table)",
                backend,
                file_s,
                rows=size,
                baseline_seconds=physical_s,
                ratio=file_s / physical_s,
                limit="ratio <= 4",
            )
        )
        analyze(engine)
        settle(engine)
        floor_s, floor_rows = timed(lambda: _floor(engine, floor_acc, agent, floor_request))
        # Not on the floor's million dirty pages and the autovacuum they call for: a request
        # is approved days after its filing, in a database autovacuum has been through.
        analyze(engine)
        settle(engine)
        approve_s = desk.approve(request_id)
        with session_for(engine) as s:
            req = s.get(ConsentRequest, request_id)
            changed = req.changed_count
            applied = s.get(RequestApplication, request_id)
            assert applied is None or applied.state is ApplyState.done, applied.state
            assert s.get(RequestFreeze, request_id).state is FreezeState.done
        assert floor_rows == changed == size, (floor_rows, changed, size)
        bench.record(
            Result(
                "request: approve mass opt-in through the app, end to end (clicks, applied in bg)",
                backend,
                approve_s,
                rows=changed,
                baseline_seconds=floor_s,
                ratio=approve_s / floor_s,
                limit="ratio <= 2",
            )
        )
        for label, seconds in desk.pages.items():
            bench.record(Result(label, backend, seconds, rows=size, limit="< 0.3 s"))
        for label, seconds in desk.posts.items():
            bench.record(Result(label, backend, seconds, rows=size, limit="< 0.5 s"))
        desk.close()
        _pages(bench, backend, engine, request_id)
        # The physical floor changes a third account's addresses, filled after every page
        # was timed, so the pages ran beside the same two accounts as before it existed.
        physical_acc = fill_account(engine, "Physical Co", size // 2, fields=2)
        analyze(engine)
        settle(engine)
        physical_s, physical_rows = timed(
            lambda: floors.status_change(
                engine,
                "account_id = :acc AND status = 'non_marketable'",
                {"acc": physical_acc},
                "single_opt_in",
                NOW,
            )
        )
        assert physical_rows == size, (physical_rows, size)
        bench.record(
            Result(
                "request: approval end to end vs its physical floor (each status updated, "
                "one bare row per address)",
                backend,
                approve_s,
                rows=changed,
                baseline_seconds=physical_s,
                ratio=approve_s / physical_s,
                limit="ratio <= 4",
            )
        )


def _pages(bench: Bench, backend: str, engine: sa.Engine, request_id: int) -> None:
    """The approved 1,000,000-address request's pages, as the agent and the customer get them."""
    app = web_app(engine)
    for who, path in (
        ("agent@bench.example", f"/desk/requests/{request_id}"),
        ("bench@bench.example", f"/requests/{request_id}"),
    ):
        client = app.test_client()
        client.post("/login", data={"email": who, "password": PASSWORD})

        def fetch(path=path, client=client):
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        side = "review page (agent)" if who.startswith("agent") else "request page (customer)"
        bench.record(
            Result(
                f"page: an approved request's {side}",
                backend,
                median_time(fetch, repeat=3),
                rows=1,
                limit="< 0.3 s",
            )
        )
    with app.app_context():
        from support.extensions import db

        db.engine.dispose()


def run(bench: Bench, backend: str, url: str, size: int) -> None:
    """Approval of `size` addresses vs its floor, filed and approved through the app; each
    background run's own peak memory at `size` (the queue's pages are `cases_queue`)."""
    from . import run_memory  # run_memory files and approves as this module does

    _approval(bench, backend, url, size)
    run_memory.run(bench, backend, url, size)
