"""The rule book, tried by random sequences of everything customers, agents, recipients and the
system do, with DOMAIN.md's rules checked against the database after every step.

Hypothesis drives the domain operations directly on a small pool of mailboxes spread over two
accounts, each mailbox also arriving in other spellings (case, spaces, punycode, NFD), so steps
collide often (rulebook_pool.py). A step the domain refuses (a DomainError) is rolled back and
the run goes on: the invariants (rulebook_invariants.py) are what must hold. The Hypothesis
profile sets the length: short in `make test`, thousands of steps in `make fuzz`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta
from itertools import count

import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from requests_queue.campaigns import (
    ConsentProof,
    RecipientLinks,
    confirm_address,
    provided_content,
    unsubscribe_address,
)
from requests_queue.contacts import ContactData, create_contact, update_contact
from requests_queue.errors import Conflict, DomainError
from requests_queue.imports import Target, inspect_file, run_import, start_import
from requests_queue.mass_actions import Direction, mass_opt_out, preview
from requests_queue.models import (
    Base,
    CampaignRecipient,
    ConsentRequest,
    Contact,
    EmailAddress,
    EmailField,
    ImportBatch,
    ImportState,
    MassAction,
    RejectReason,
    RequestState,
    StatusEvent,
    Tag,
)
from requests_queue.models.requests import OPEN_STATES
from requests_queue.requests import lifecycle
from requests_queue.requests.approval import approve_request, confirm_approval
from requests_queue.requests.evidence import CHECKLIST
from requests_queue.requests.filing import file_request
from requests_queue.requests.second_review import return_to_review, set_second_review_threshold
from requests_queue.requests.targets import OptInTarget, UndoTarget
from requests_queue.selection import ContactFilter
from requests_queue.status_changes import change_status
from requests_queue.statuses import MARKETABLE, Actor, ActorKind, EmailStatus
from tests.campaign_queue import queue_campaign
from tests.conftest import NOW, REQUEST_BASE_URL
from tests.evidence import GOOD_EVIDENCE as EVIDENCE
from tests.requests_queue import rulebook_invariants as rules
from tests.requests_queue.rulebook_pool import (
    KEEP,
    MAILBOXES,
    TAG,
    accounts,
    deciders,
    edits,
    field_sets,
    import_rows,
    make_people,
    picks,
    request_picks,
    second_reviewers,
    selections,
    supporters,
    three_cells,
    write_csv,
)
from tests.stored_files import stored

S = EmailStatus
SECRET = "test-secret"
LINKS = RecipientLinks(secret=SECRET, base_url="http://localhost")
PROOF = ConsentProof(ip="198.51.100.7", user_agent="hypothesis")
URL = {"base_url": REQUEST_BASE_URL}
MAPPING = {0: Target.first_name, 1: Target.email, 2: Target.email2, 3: Target.email3}
STATS = {"examples": 0, "steps": 0, "refused": 0}
# What the rules pick existing rows of; a rule waits until its kind of row exists.
PICKED = (Contact, MassAction, ConsentRequest, CampaignRecipient, EmailAddress)


class RuleBookMachine(RuleBasedStateMachine):
    """Random sequences of the domain's operations on a small, colliding pool of addresses."""

    def __init__(self, db, people: dict, workdir):
        super().__init__()
        self.db, self.session, self.people, self.workdir = db, db.session, people, workdir
        self.now = NOW
        self.files = count()
        self.session.rollback()
        with db.engine.begin() as conn:  # every table but the people: each example starts empty
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in ("accounts", "users"):
                    conn.execute(table.delete())
        self.events: dict[int, tuple] = {}
        self.present: set = set()
        STATS["examples"] += 1

    def actor(self, key) -> Actor:
        user_id, _account, role = self.people[key]
        return Actor(ActorKind(role.value), user_id)

    def account_id(self, n: int) -> int:
        return self.people[n][1]

    def owner(self, row) -> int:
        """The key of the customer whose account `row` belongs to."""
        return 0 if row.account_id == self.account_id(0) else 1

    @contextmanager
    def step(self):
        """One operation: the clock moves on; a refused step is rolled back, the rest committed."""
        self.now += timedelta(hours=1)
        STATS["steps"] += 1
        try:
            yield
            self.session.commit()
        except DomainError:
            self.session.rollback()
            STATS["refused"] += 1
        finally:
            self.session.expire_all()
        found = self.session.execute(sa.select(*(sa.exists(sa.select(m.id)) for m in PICKED))).one()
        self.present = {m for m, there in zip(PICKED, found, strict=True) if there}

    def has(self, model) -> bool:
        """True once some row of `model` exists (the rules that act on one wait for it)."""
        return model in self.present

    def pick(self, model, n: int, *where):
        """The n-th existing row (modulo their number), or None when there is none."""
        ids = self.session.scalars(sa.select(model.id).where(*where).order_by(model.id)).all()
        return self.session.get(model, ids[n % len(ids)]) if ids else None

    def request(self, pick: int, states=OPEN_STATES) -> ConsentRequest:
        """A request in one of `states` (what the actor would act on) if there is one; for a
        negative pick, any request: acting on it is often refused, which is tried too."""
        if pick >= 0:
            wanted = ConsentRequest.state.in_(states)
            return self.pick(ConsentRequest, pick, wanted) or self.pick(ConsentRequest, pick)
        return self.pick(ConsentRequest, pick)

    def selection(self, n: int, how: str, pick: int) -> ContactFilter:
        account_id = self.account_id(n)
        if how == "search":
            return ContactFilter(account_id, search=MAILBOXES[pick % len(MAILBOXES)][0])
        if how == "tag":
            tag = self.pick(Tag, pick, Tag.account_id == account_id)
            return ContactFilter(account_id, tag_id=tag.id if tag else None)
        if how == "batch":
            batch = self.pick(ImportBatch, pick, ImportBatch.account_id == account_id)
            return ContactFilter(account_id, import_batch_id=batch.id if batch else None)
        return ContactFilter(account_id)

    @contextmanager
    def nothing_made_marketable(self, unless: bool):
        """A step that must not make any address marketable (unless consent was recorded)."""
        newest = self.session.scalar(sa.select(sa.func.max(StatusEvent.id))) or 0
        yield
        made = self.session.scalars(
            sa.select(StatusEvent.id).where(
                StatusEvent.id > newest, StatusEvent.to_status.in_(sorted(MARKETABLE))
            )
        ).all()
        assert unless or not made, f"saved without consent, yet events {made} are marketable"

    # --- customers ---

    @initialize(
        rows=st.tuples(import_rows, import_rows), permission=st.tuples(*[st.booleans()] * 2)
    )
    def first_imports(self, rows, permission):
        """Every example starts from an import into each account."""
        for n in (0, 1):
            self.import_contacts(n, rows[n], permission[n], tagged=True)

    @rule(n=accounts, rows=import_rows, permission=st.booleans(), tagged=st.booleans())
    def import_contacts(self, n, rows, permission, tagged):
        """Import (or re-import) a few rows, answering the permission question yes or no."""
        upload = write_csv(self.workdir / f"upload-{next(self.files)}.csv", rows)
        with self.step():
            batch = start_import(
                self.session, self.account_id(n), self.actor(n), inspect_file(upload),
                stored(self.session, upload, self.account_id(n)), upload.name, MAPPING, permission,
                TAG if tagged else "", self.now,
            )  # fmt: skip
            batch_id, now = batch.id, self.now
            self.session.commit()  # the run has its own connection; this one holds nothing
            state = run_import(self.db.engine, batch_id, clock=lambda: now)
            error = self.session.get(ImportBatch, batch_id).error
            assert state is ImportState.finished, f"the import failed: {error}"

    @rule(n=accounts, cells=three_cells, consent=st.booleans(), tagged=st.booleans())
    def add_contact(self, n, cells, consent, tagged):
        """Add a contact by hand, with or without the recipient's recorded permission."""
        data = ContactData(
            first_name="Hand",
            emails={f: c for f, c in zip(EmailField, cells, strict=True) if c},
            tag_names=(TAG,) if tagged else (),
            consent_recorded=consent,
        )
        with self.nothing_made_marketable(unless=consent), self.step():
            create_contact(self.session, self.account_id(n), data, self.actor(n), self.now)

    @precondition(lambda self: self.has(Contact))
    @rule(pick=picks, cells=edits, consent=st.booleans())
    def edit_contact(self, pick, cells, consent):
        """Change, clear or move a contact's addresses."""
        contact = self.pick(Contact, pick)
        current = {a.field: a.address for a in contact.addresses}
        emails = {
            f: current.get(f, "") if c == KEEP else c
            for f, c in zip(EmailField, cells, strict=True)
        }
        data = ContactData(first_name="Edited", emails=emails, consent_recorded=consent)
        with self.nothing_made_marketable(unless=consent), self.step():
            update_contact(self.session, contact, data, self.actor(self.owner(contact)), self.now)

    @rule(n=accounts, how=selections, pick=picks, fields=field_sets)
    def mass_opt_out(self, n, how, pick, fields):
        """Opt out a selection at once, confirming the previewed count."""
        flt = self.selection(n, how, pick)
        with self.nothing_made_marketable(unless=False), self.step():
            expected = preview(self.session, flt, fields, Direction.opt_out).changing
            mass_opt_out(self.session, flt, fields, self.actor(n), self.now, expected)

    @rule(n=accounts, how=selections, pick=picks, fields=field_sets)
    def file_mass_opt_in(self, n, how, pick, fields):
        """Ask support to opt a selection's non-marketable addresses in."""
        target = OptInTarget(self.selection(n, how, pick), fields)
        with self.step():
            file_request(self.session, target, EVIDENCE, self.actor(n), self.now, **URL)

    @precondition(lambda self: self.has(MassAction))
    @rule(n=accounts, pick=picks)
    def file_undo_opt_out(self, n, pick):
        """Ask support to undo one of the account's mass opt-outs (or another account's)."""
        target = UndoTarget(self.account_id(n), self.pick(MassAction, pick).id)
        with self.step():
            file_request(self.session, target, EVIDENCE, self.actor(n), self.now, **URL)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, own=st.booleans())
    def withdraw(self, pick, own):
        """The customer (or, refused, another account's customer) withdraws a request."""
        req = self.request(pick)
        who = self.owner(req) if own else 1 - self.owner(req)
        with self.step():
            lifecycle.withdraw_request(self.session, req, self.actor(who), self.now)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks)
    def answer(self, pick):
        """The customer answers support's question."""
        req = self.request(pick, [RequestState.awaiting_customer])
        with self.step():
            who = self.actor(self.owner(req))
            lifecycle.answer_question(self.session, req, "The form.", who, self.now, **URL)

    @rule(n=accounts, how=selections, pick=picks, fields=field_sets)
    def send_confirmations(self, n, how, pick, fields):
        """Queue a double opt-in campaign to the selection's single opt-in addresses."""
        flt = self.selection(n, how, pick)
        with self.step():
            content, who = provided_content(), self.actor(n)
            queue_campaign(self.session, flt, fields, content, who, self.now, LINKS)

    # --- support ---

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=supporters)
    def claim(self, pick, who):
        """An agent or the manager takes a request."""
        req = self.request(pick)
        with self.step():
            lifecycle.claim_request(self.session, req, self.actor(who), self.now)

    @contextmanager
    def reviewing(self, pick: int, who: str):
        """A support step on a request by `who` ("assignee": whoever holds it); one nobody
        claimed yet is claimed first, as desks do. Yields the request and the actor."""
        req = self.request(pick, [RequestState.submitted, RequestState.in_review])
        if who == "assignee":
            holders = {user_id: key for key, (user_id, _, _) in self.people.items()}
            who = holders.get(req.assignee_id, "agent")
        actor = self.actor(who)
        with self.step():
            if req.state is RequestState.submitted:
                lifecycle.claim_request(self.session, req, actor, self.now)
            yield req, actor

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=deciders)
    def ask(self, pick, who):
        """Support asks the customer for more information."""
        with self.reviewing(pick, who) as (req, actor):
            lifecycle.ask_customer(self.session, req, "Which?", actor, self.now, **URL)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=deciders)
    def approve(self, pick, who):
        """Support approves (sometimes again, or not its own): changes apply at most once."""
        checklist = [key for key, _ in CHECKLIST]
        with self.reviewing(pick, who) as (req, actor):
            try:
                approve_request(self.session, req, actor, self.now, checklist=checklist, **URL)
            except Conflict as exc:  # nobody acts meanwhile here: the re-check and rules disagree
                raise AssertionError(f"approval conflicted with nobody acting: {exc}") from exc

    @initialize(value=st.sampled_from((0, 0, 2, 10_000)))
    def start_threshold(self, value):
        """Each example starts with a four-eyes threshold (0: every approval waits)."""
        with self.step():
            set_second_review_threshold(self.session, value, self.actor("manager"), self.now)

    @rule(value=st.sampled_from((0, 1, 2, 10_000)))
    def move_threshold(self, value):
        """The manager moves the four-eyes threshold (the pool's requests hold 0 to a few)."""
        with self.step():
            set_second_review_threshold(self.session, value, self.actor("manager"), self.now)

    def second_reviewer(self, req: ConsentRequest, who: str) -> Actor:
        """`who` of the second review: "first" is its first approver, a number a customer."""
        if who == "first":
            holders = {user_id: key for key, (user_id, _, _) in self.people.items()}
            return self.actor(holders.get(req.first_approved_by_id, "agent"))
        return self.actor(int(who) if who.isdigit() else who)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=second_reviewers)
    def confirm(self, pick, who):
        """A second agent confirms a big approval (or the first approver, a customer: refused)."""
        req = self.request(pick, [RequestState.pending_second_review])
        checklist = [key for key, _ in CHECKLIST]
        with self.step():
            actor = self.second_reviewer(req, who)
            confirm_approval(self.session, req, actor, self.now, checklist=checklist, **URL)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=second_reviewers)
    def return_approval(self, pick, who):
        """A second agent returns a big approval to review with a note."""
        req = self.request(pick, [RequestState.pending_second_review])
        with self.step():
            actor = self.second_reviewer(req, who)
            return_to_review(self.session, req, "Look again.", actor, self.now)

    @precondition(lambda self: self.has(ConsentRequest))
    @rule(pick=request_picks, who=deciders)
    def reject(self, pick, who):
        """Support rejects with a reason."""
        reason = RejectReason.insufficient_evidence
        with self.reviewing(pick, who) as (req, actor):
            lifecycle.reject_request(
                self.session, req, reason, "Not enough.", actor, self.now, **URL
            )

    # --- recipients and the system ---

    @precondition(lambda self: self.has(CampaignRecipient))
    @rule(pick=picks)
    def recipient_confirms(self, pick):
        """A recipient clicks the confirmation link of a campaign email (once, within 14 days)."""
        recipient = self.pick(CampaignRecipient, pick)
        with self.step():
            confirm_address(self.session, SECRET, recipient.confirm_token, self.now, PROOF)

    @precondition(lambda self: self.has(CampaignRecipient))
    @rule(pick=picks)
    def recipient_unsubscribes(self, pick):
        """A recipient clicks the unsubscribe link of a campaign email (any time, any status)."""
        recipient = self.pick(CampaignRecipient, pick)
        with self.step():
            unsubscribe_address(self.session, SECRET, recipient.unsubscribe_token, self.now, PROOF)

    @precondition(lambda self: self.has(EmailAddress))
    @rule(pick=picks, to=st.sampled_from((S.hard_bounce, S.spam_complaint, S.invalid)))
    def deliverability_fact(self, pick, to):
        """The system records a hard bounce, a spam complaint or an invalid address."""
        address = self.pick(EmailAddress, pick)
        with self.step():
            change_status(self.session, address, to, Actor(ActorKind.system), self.now)

    @rule(days=st.integers(1, 8))
    def time_passes(self, days):
        """Days go by: confirmation links expire, addresses may be sent a confirmation again."""
        self.now += timedelta(days=days)

    @invariant()
    def rule_book_holds(self):
        """DOMAIN.md's rules, read from the database after every step."""
        after = rules.check_all(self.session)
        rules.check_append_only(self.events, after)
        self.events = after
        self.session.rollback()  # end the read, so an import's own connection never waits on it


def test_no_sequence_of_operations_breaks_the_rule_book(db, session, backend, tmp_path):
    """Every rule of DOMAIN.md holds after every step of random operation sequences."""
    people = make_people(session)
    STATS.update(examples=0, steps=0, refused=0)
    started = time.monotonic()
    run_state_machine_as_test(lambda: RuleBookMachine(db, people, tmp_path), settings=settings())
    print(
        f"\nrule book on {backend}: {STATS['examples']} examples, {STATS['steps']} steps "
        f"({STATS['refused']} refused by the domain) in {time.monotonic() - started:.1f} s "
        f"[profile {settings.get_current_profile_name()}]"
    )
    assert STATS["steps"] > STATS["refused"] > 0  # both kinds of step were exercised
