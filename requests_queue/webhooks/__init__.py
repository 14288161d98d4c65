"""Webhooks to the platform: signed events queued with the change that caused them.

endpoints.py   registering, listing and removing endpoints (and the secret, shown once)
targets.py     which URLs an endpoint may have: public hosts only (server-side request forgery)
queueing.py    deliveries written in the caller's transaction (request, SLA, address events)
signing.py     Standard Webhooks signatures
sender.py      the scheduler's delivery: claim, POST, retry with backoff for 24 hours
"""
