"""Which background run a log line belongs to: a context variable the log formatter reads.

No Flask here: jobs, imports and campaign runs say `with running("job", run_id): ...` and
every line they log meanwhile carries `run_id` (support/logs.py puts it in each line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_run: ContextVar[str | None] = ContextVar("current_run", default=None)


@contextmanager
def running(kind: str, key: object) -> Iterator[str]:
    """Mark the lines logged inside the block as those of run `kind:key`."""
    token = current_run.set(f"{kind}:{key}")
    try:
        yield current_run.get()
    finally:
        current_run.reset(token)
