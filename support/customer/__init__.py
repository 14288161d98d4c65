"""The customer portal: contacts, mass actions (and, later, requests and imports)."""
