"""The manager dashboard: SLA, reports, reassignment, calendar, outbox."""
