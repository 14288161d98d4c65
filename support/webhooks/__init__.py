"""Webhook endpoints on the user's account: customers (their account's), managers (the desk's)."""
