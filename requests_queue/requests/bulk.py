"""Bulk work on the queue: one single-request operation applied to each selected request.

Each request goes through the very operation its own page calls (claim, assign, note), so
each gets the same timeline event, clock move and webhook. Each runs in a savepoint: a request
the rules refuse (claimed by someone else meanwhile, closed, already assigned to that person)
is rolled back alone and reported with its reason, and the others go on. The caller commits
once, so everything that succeeded lands in one transaction, or nothing does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import DomainError, NotFound, ValidationError
from ..models import ConsentRequest

MAX_SELECTED = 100


@dataclass
class BulkResult:
    """What a bulk action did: the requests done, and each refusal with its reason."""

    done: list[ConsentRequest] = field(default_factory=list)
    refused: list[tuple[str, DomainError]] = field(default_factory=list)  # (number, why)


def selected_ids(raw: Sequence[str]) -> list[int]:
    """The distinct request ids of a selection, in the order given; ValidationError
    ("selected") when it is empty, holds something that is not an id, or is too large."""
    ids: list[int] = []
    for value in raw:
        if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 2**63:
            raise ValidationError("selected", "the selection holds something that is not a request")
        if int(value) not in ids:
            ids.append(int(value))
    if not ids:
        raise ValidationError("selected", "select at least one request")
    if len(ids) > MAX_SELECTED:
        raise ValidationError(
            "selected", f"select at most {MAX_SELECTED} requests at a time ({len(ids)} selected)"
        )
    return ids


def apply_each(
    session: Session, ids: Sequence[int], act: Callable[[ConsentRequest], object]
) -> BulkResult:
    """Run `act` on each request of `ids` (in that order), each in its own savepoint."""
    found = {
        r.id: r
        for r in session.scalars(sa.select(ConsentRequest).where(ConsentRequest.id.in_(ids)))
    }
    result = BulkResult()
    for request_id in ids:
        req = found.get(request_id)
        if req is None:
            number = ConsentRequest(id=request_id).number  # never added to the session
            result.refused.append((number, NotFound(f"{number} does not exist")))
            continue
        try:
            with session.begin_nested():
                act(req)
        except DomainError as exc:
            result.refused.append((req.number, exc))
        else:
            result.done.append(req)
    return result
