"""Evidence that passes every rule of DOMAIN.md, for tests that file requests."""

from requests_queue.requests.evidence import EvidenceInput

GOOD_EVIDENCE = EvidenceInput(
    reason="They signed up on our website but were imported without the flag.",
    last_sent="never",
    explicit_permission="yes",
    permission_details="Each person ticked an unticked box on the newsletter form in 2025.",
    form_links=("https://acme.example/newsletter",),
    list_source="website_form",
    attested=True,
)
