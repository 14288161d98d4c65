"""All models, importable from one place."""

from .accounts import Account, Role, User
from .base import Base, UTCDateTime
from .contacts import Contact, EmailAddress, EmailField, ImportBatch, Tag, contact_tags
from .events import MassAction, MassActionItem, MassActionKind, StatusEvent

__all__ = [
    "Account",
    "Base",
    "Contact",
    "EmailAddress",
    "EmailField",
    "ImportBatch",
    "MassAction",
    "MassActionItem",
    "MassActionKind",
    "Role",
    "StatusEvent",
    "Tag",
    "User",
    "UTCDateTime",
    "contact_tags",
]
