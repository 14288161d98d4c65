"""Importing contacts from the files other email systems export (issue 3).

`reading` detects encoding, delimiter and header; `mapping` pre-selects columns; `addresses`
is the fast address check; `runner` claims a batch, keeps it alive and finishes it, `pipeline`
streams its file in committed chunks (on a connection `tuning` prepares) and `staging` does
each chunk's work set-based; `batches` starts, resumes and reports batches.
"""

from .batches import (
    PERMISSION_STATEMENT,
    neutralise,
    resume_stale_imports,
    skipped_by_reason,
    skipped_rows_csv,
    start_import,
)
from .mapping import EMAIL_TARGETS, Target, check_mapping, guess_mapping
from .reading import FileFormat, FileRefused, inspect_file
from .runner import STALE_AFTER, run_import

__all__ = [
    "EMAIL_TARGETS",
    "PERMISSION_STATEMENT",
    "STALE_AFTER",
    "FileFormat",
    "FileRefused",
    "Target",
    "check_mapping",
    "guess_mapping",
    "inspect_file",
    "neutralise",
    "resume_stale_imports",
    "run_import",
    "skipped_by_reason",
    "skipped_rows_csv",
    "start_import",
]
