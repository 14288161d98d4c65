"""`make loadtest`: locust against `make serve` on PostgreSQL with a busy Monday's data."""
