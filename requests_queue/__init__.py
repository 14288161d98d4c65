"""Consent Desk's domain core: models, status rules, mass actions, requests, calendar, jobs.

Nothing here imports Flask. Operations take a SQLAlchemy session, an actor and `now`
explicitly, write their events and flush; the caller commits.
"""
