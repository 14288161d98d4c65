"""Requests (tickets): evidence rules, the lifecycle state machine, approval, the queue.

`lifecycle` holds the one state machine and every operation that moves a request;
`approval` applies an approved request's status changes; `evidence` checks what the
customer files; `targets` freezes what a request applies to; `queue` and `timeline`
read requests for the desk, the customer pages and the SLA clock.
"""
