"""The agent desk: the queue of requests across accounts."""
