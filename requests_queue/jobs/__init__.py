"""Background jobs: the schedule table, the runner that records every run, the scheduler loop.

No Flask here: `flask scheduler` (support/scheduler.py) hands over an engine and settings.
"""
