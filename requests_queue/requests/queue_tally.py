"""Reading and folding the queue's kept counts (`models.queue_tally`: the triggers keep them).

`groups` gives the open requests per (state, kind, account, assignee) from the folded counts
and the changes not folded yet, in one statement, so a page sees a consistent count however a
fold runs beside it. `fold` moves the changes into the counts: on PostgreSQL one statement that
deletes the changes it sees and adds exactly those (a change committed later stays for the next
fold); on SQLite, whose one writer excludes every other, two statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models.queue_tally import NONE, QueueTally, QueueTallyChange

T, C = QueueTally.__table__.c, QueueTallyChange.__table__.c
KEYS = ("state", "kind", "account_id", "assignee_key")


def _groups_statement() -> sa.Select:
    states = sa.bindparam("states", expanding=True)
    parts = (sa.select(*(t[k] for k in KEYS), t.n).where(t.state.in_(states)) for t in (T, C))
    both = sa.union_all(*parts).subquery()
    keys = [both.c[k] for k in KEYS]
    total = sa.func.sum(both.c.n)
    assignee = sa.func.nullif(both.c.assignee_key, NONE).label("assignee_id")
    return sa.select(*keys[:3], assignee, total.label("n")).group_by(*keys).having(total > 0)


# Built once: making the statement costs more Python than the database spends running it.
GROUPS = _groups_statement()


def groups(session: Session, states: Iterable[str]) -> Sequence[sa.Row]:
    """(state, kind, account id, assignee id or None, count) of every non-empty group whose
    state is one of `states` (values)."""
    return session.execute(GROUPS, {"states": list(states)}).all()


def fold(session: Session) -> int:
    """Move the logged changes into the kept counts; how many change rows it folded."""
    if session.get_bind().dialect.name == "postgresql":
        moved = sa.text(
            "WITH moved AS (DELETE FROM queue_tally_changes RETURNING state, kind, account_id, "
            "assignee_key, n), added AS (INSERT INTO queue_tally AS t "
            "(state, kind, account_id, assignee_key, n) "
            "SELECT state, kind, account_id, assignee_key, sum(n) FROM moved "
            "GROUP BY state, kind, account_id, assignee_key "
            "ORDER BY state, kind, account_id, assignee_key "  # one lock order for every fold
            "ON CONFLICT (state, kind, account_id, assignee_key) DO UPDATE SET n = t.n + excluded.n"
            ") SELECT count(*) FROM moved"
        )
        folded = session.scalar(moved) or 0
    else:
        top = session.scalar(sa.select(sa.func.max(C.id)))
        if top is None:
            return 0
        folded = session.scalar(sa.select(sa.func.count()).where(C.id <= top))
        session.execute(
            sa.text(
                "INSERT INTO queue_tally (state, kind, account_id, assignee_key, n) "
                "SELECT state, kind, account_id, assignee_key, sum(n) FROM queue_tally_changes "
                "WHERE id <= :top GROUP BY state, kind, account_id, assignee_key "
                "ON CONFLICT (state, kind, account_id, assignee_key) "
                "DO UPDATE SET n = n + excluded.n"
            ),
            {"top": top},
        )
        session.execute(sa.delete(QueueTallyChange).where(C.id <= top))
    # Emptied groups go: the counts stay as small as the groups that hold requests.
    session.execute(sa.delete(QueueTally).where(T.n == 0))
    return folded
