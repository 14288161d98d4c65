"""The 3–5 business-day promise: per-request deadlines from the timeline, and the jobs that
enforce it (the sweep that marks at-risk and breached requests, reminders and closing of
unanswered requests, the managers' daily digest).
"""
