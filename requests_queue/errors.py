"""Domain errors; views turn them into field messages, flashes or HTTP errors."""


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class ValidationError(DomainError):
    """Input that breaks a rule; `field` names the form field it belongs to (or None)."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class InvalidTransition(DomainError):
    """A move that the status rules or the request state machine do not allow."""


class NotFound(DomainError):
    """The object does not exist in the caller's account."""


class Conflict(DomainError):
    """Somebody else changed the object first (for example claimed the request)."""
