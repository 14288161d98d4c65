"""All models, importable from one place."""

from .accounts import Account, Role, User
from .approval_settings import ApprovalSettings  # noqa: F401  (issue 15: four-eyes approval)
from .assignment import AgentHours, AgentShift, AssignmentSettings  # noqa: F401  (issue 15)
from .base import Base, UTCDateTime
from .calendar_settings import CalendarHoliday, CalendarHours, CalendarSettings, HolidayChange
from .campaigns import Campaign, CampaignRecipient, CampaignState, CampaignTemplate
from .contacts import (
    Contact,
    EmailAddress,
    EmailField,
    ImportBatch,
    ImportState,
    Tag,
    contact_tags,
)
from .events import (
    AddressMerge,
    MassAction,
    MassActionKind,
    MassActionState,
    StatusEvent,
)
from .feedback import FeedbackEvent, FeedbackFeed  # noqa: F401  (issue 13: provider feedback)
from .files import Blob, BlobChunk, PendingUpload, RequestAttachment  # noqa: F401  (uploads)
from .imports import ImportMatch, ImportRowError, SkipReason
from .jobs import JobOutcome, JobRun, SchedulerBeat, scheduler_jobs
from .outbox import OutboxMessage, OutboxState
from .queue_tally import QueueTally, QueueTallyChange
from .queue_version import QueueVersionBump  # noqa: F401  (the queue's cached pages)
from .replies import ReplyPurpose, SavedReply
from .reports import ReportFact, ReportFactsState
from .request_runs import ApplyState, FreezeState, RequestApplication, RequestFreeze
from .requests import (
    AddressOutcome,
    ConsentRequest,
    ListSource,
    RejectReason,
    RequestAddress,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestState,
)
from .sla import SlaDigest, SlaEvent, SlaSweepState, SlaThreshold
from .tokens import ApiToken, TokenScope
from .webhooks import WebhookDelivery, WebhookEndpoint  # noqa: F401  (issue 13: webhooks out)

__all__ = [
    "AddressMerge",
    "ApiToken",
    "ApplyState",
    "TokenScope",
    "SlaDigest",
    "SlaEvent",
    "SlaSweepState",
    "SlaThreshold",
    "Account",
    "AddressOutcome",
    "ConsentRequest",
    "ListSource",
    "RejectReason",
    "ReplyPurpose",
    "SavedReply",
    "QueueTally",
    "QueueTallyChange",
    "ReportFact",
    "ReportFactsState",
    "RequestAddress",
    "RequestApplication",
    "RequestEvent",
    "RequestFreeze",
    "FreezeState",
    "RequestEventKind",
    "RequestKind",
    "RequestState",
    "Base",
    "CalendarHoliday",
    "CalendarHours",
    "CalendarSettings",
    "Campaign",
    "CampaignRecipient",
    "CampaignState",
    "CampaignTemplate",
    "Contact",
    "EmailAddress",
    "EmailField",
    "HolidayChange",
    "ImportBatch",
    "ImportMatch",
    "ImportRowError",
    "ImportState",
    "JobOutcome",
    "JobRun",
    "MassAction",
    "MassActionKind",
    "MassActionState",
    "OutboxMessage",
    "OutboxState",
    "Role",
    "SchedulerBeat",
    "SkipReason",
    "StatusEvent",
    "Tag",
    "User",
    "UTCDateTime",
    "contact_tags",
    "scheduler_jobs",
]
