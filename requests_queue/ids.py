"""The largest id any row can have.

Primary keys are SQLAlchemy `Integer`: PostgreSQL's 32-bit `integer` (SQLite's is 64-bit, but the
smaller bound is the one both databases accept). A larger number names nothing, and must not reach
the database, where comparing an `integer` column with it is an error rather than "no match".
"""

MAX_ID = 2**31 - 1
