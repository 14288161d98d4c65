"""What the stateful rule-book test draws from: a small pool of mailboxes in many spellings,
the people who act, and the strategies for each operation's arguments."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from hypothesis import strategies as st

from requests_queue.models import Account, EmailField, Role, User

# Eight mailboxes; the same ones exist in both accounts, which must stay apart.
MAILBOXES = [
    ("ada", "shop.example"),
    ("bo", "shop.example"),
    ("cy", "mail.example"),
    ("di", "bücher.example"),
    ("josé", "shop.example"),
    ("zoë", "bücher.example"),
    ("fay", "mail.example"),
    ("gil", "shop.example"),
]
VARIANTS = ("plain", "upper", "spaced", "punycode", "nfd", "all")
TAG = "Newsletter"
HEADER = ["First Name", "Email", "Email 2", "Email 3"]


def spell(mailbox: int, variant: str) -> str:
    """One spelling of a pool mailbox: rule 6 says every spelling is the same address."""
    local, domain = MAILBOXES[mailbox]
    if variant in ("punycode", "all"):
        domain = domain.encode("idna").decode("ascii")
    if variant in ("nfd", "all"):
        local = unicodedata.normalize("NFD", local)
    text = f"{local}@{domain}"
    if variant in ("upper", "all"):
        text = text.upper()
    return f"  {text} " if variant in ("spaced", "all") else text


spellings = st.builds(spell, st.integers(0, len(MAILBOXES) - 1), st.sampled_from(VARIANTS))
three_cells = st.lists(st.none() | spellings, min_size=3, max_size=3)
import_rows = st.lists(three_cells, min_size=1, max_size=3)
KEEP = "keep"  # an edit leaves the field as it is
edits = st.lists(st.just(KEEP) | st.just("") | spellings, min_size=3, max_size=3)
accounts = st.integers(0, 1)
picks = st.integers(0, 40)  # an existing row, modulo how many there are
request_picks = st.integers(-10, 40)  # negative: any request, else an open one if there is
supporters = st.sampled_from(("agent", "agent2", "manager"))
# Who decides a request: mostly whoever holds it, sometimes someone who may not.
deciders = st.sampled_from(("assignee", "assignee", "agent", "agent2", "manager"))
# Who confirms or returns a first approval: "first" (its approver) and customers are refused.
second_reviewers = st.sampled_from(("agent", "agent2", "manager", "first", "0"))
selections = st.sampled_from(("all", "all", "search", "tag", "batch"))  # all: most often
field_sets = st.sets(st.sampled_from(list(EmailField)), min_size=1).map(
    lambda chosen: tuple(f for f in EmailField if f in chosen)
)


def write_csv(path: Path, rows: list[list[str | None]]) -> Path:
    """An export file of `rows` (three address cells each) as another system would write it."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        writer.writerows([f"Row{i}", *(c or "" for c in cells)] for i, cells in enumerate(rows))
    return path


def make_people(session) -> dict:
    """Two accounts with a customer each (keys 0, 1), two agents and a manager.

    Returns key -> (user id, account id, role); they are kept across examples.
    """
    people = {}
    for n, name in enumerate(("Acme", "Globex")):
        people[n] = User(
            email=f"owner{n}@example.com", role=Role.customer, account=Account(name=name)
        )
    people["agent"] = User(email="agent@support.example", role=Role.agent)
    people["agent2"] = User(email="agent2@support.example", role=Role.agent)
    people["manager"] = User(email="manager@support.example", role=Role.manager)
    for user in people.values():
        user.password_hash = "not used: nobody logs in"
        session.add(user)
    session.commit()
    return {key: (user.id, user.account_id, user.role) for key, user in people.items()}
