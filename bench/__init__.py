"""`python -m bench`: Consent Desk's benchmark; figures printed and written to results.json."""
