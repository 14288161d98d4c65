"""Provider feedback (issue 13): bounces, complaints and unsubscribes from the sending provider.

`parsing` turns each provider's payload into `Reported` events, `signatures` and `sns` check
who sent them, `intake` stores a delivery's events in one insert, and `processing` applies
every pending event of a feed set-based, through `status_changes.change_many`.
"""
