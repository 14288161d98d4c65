"""The marketability statuses of an address and who may make each change (DOMAIN.md).

This module is the single rule book. Every status write in the code base asks it first:
single writes through `check_transition`, set-based writes through `allowed_sources`,
which turns the table into the `WHERE status IN (...)` of one UPDATE.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from .enums import TitledEnum
from .errors import InvalidTransition


class EmailStatus(TitledEnum):
    """Marketability status of one email address."""

    single_opt_in = ("single_opt_in", "Single opt-in")
    double_opt_in = ("double_opt_in", "Double opt-in")
    non_marketable = ("non_marketable", "Non-marketable")
    opted_out_by_user = ("opted_out_by_user", "Opted out by you")
    opted_out_by_recipient = ("opted_out_by_recipient", "Opted out by recipient")
    spam_complaint = ("spam_complaint", "Spam complaint")
    hard_bounce = ("hard_bounce", "Hard bounce")
    invalid = ("invalid", "Invalid")


MARKETABLE = frozenset({EmailStatus.single_opt_in, EmailStatus.double_opt_in})
TERMINAL = frozenset({EmailStatus.spam_complaint, EmailStatus.hard_bounce, EmailStatus.invalid})
# From the most restrictive to the least: when two stored rows turn out to be one mailbox
# (DOMAIN.md rule 6), the mailbox keeps the status that comes first here.
STRICTEST_FIRST = tuple(
    EmailStatus(v)
    for v in (
        "invalid",
        "hard_bounce",
        "spam_complaint",
        "opted_out_by_recipient",
        "opted_out_by_user",
        "non_marketable",
        "single_opt_in",
        "double_opt_in",
    )
)


class ActorKind(TitledEnum):
    """Who causes a status change."""

    customer = ("customer", "Customer")
    agent = ("agent", "Support agent")
    manager = ("manager", "Support manager")
    recipient = ("recipient", "Recipient")
    system = ("system", "System")


class EventChannel(TitledEnum):
    """How a change reached Consent Desk, kept on its status event as proof of consent."""

    web = ("web", "Consent Desk web page")
    api = ("api", "API")
    recipient_link = ("recipient_link", "The recipient's link in the email")
    one_click = ("one_click", "One-click unsubscribe from the mail program (RFC 8058)")
    provider_feed = ("provider_feed", "The email provider's feedback feed")


@dataclass(frozen=True)
class Actor:
    """The person or process behind a change; `user_id` is None for recipients and the system.

    `channel` is how the change arrived (the web pages, the API, a recipient's link…), written
    on each status event it causes; None where nothing but the cause says it (an import run).
    """

    kind: ActorKind
    user_id: int | None = None
    channel: EventChannel | None = None

    @property
    def is_support(self) -> bool:
        """Agents and managers act for support."""
        return self.kind in (ActorKind.agent, ActorKind.manager)


@dataclass(frozen=True)
class Cause:
    """What a change was done for; some transitions require one of these."""

    request_id: int | None = None
    mass_action_id: int | None = None
    import_batch_id: int | None = None
    campaign_id: int | None = None
    consent_recorded: bool = False  # the customer attests the recipient's permission


S = EmailStatus
NEW = None  # "from" of an address that does not exist yet
_OPEN = frozenset({S.non_marketable, S.single_opt_in, S.double_opt_in})

# (actor group, target) -> statuses it may come from. "support" covers agent and manager.
# Requirements on the cause are in _REQUIRES below.
RULES: dict[tuple[str, EmailStatus], frozenset] = {
    # Customers: create addresses, opt them out; never make anything marketable except by
    # creating a new address with the recipient's recorded permission (an import with "yes").
    ("customer", S.non_marketable): frozenset({NEW}),
    ("customer", S.single_opt_in): frozenset({NEW}),
    ("customer", S.opted_out_by_user): _OPEN,
    # Support: only through an approved request (mass opt-in or undo of a mass opt-out).
    ("support", S.single_opt_in): frozenset({S.non_marketable, S.opted_out_by_user}),
    ("support", S.double_opt_in): frozenset({S.opted_out_by_user}),
    ("support", S.non_marketable): frozenset({S.opted_out_by_user}),
    # Recipients: confirm (double opt-in), unsubscribe, or resubscribe themselves.
    ("recipient", S.double_opt_in): frozenset({S.single_opt_in, S.opted_out_by_recipient}),
    ("recipient", S.opted_out_by_recipient): _OPEN | {S.opted_out_by_user},
    # The system records deliverability facts; they are terminal.
    ("system", S.spam_complaint): _OPEN | {S.opted_out_by_user, S.opted_out_by_recipient},
    ("system", S.hard_bounce): _OPEN | {S.opted_out_by_user, S.opted_out_by_recipient},
    ("system", S.invalid): _OPEN | {S.opted_out_by_user, S.opted_out_by_recipient, NEW},
}


def _group(kind: ActorKind) -> str:
    return "support" if kind in (ActorKind.agent, ActorKind.manager) else kind.value


def _missing_requirement(actor: Actor, to: EmailStatus, cause: Cause) -> str | None:
    """Name what the cause lacks for this transition, or None when it has what it needs."""
    group = _group(actor.kind)
    if group == "support" and cause.request_id is None:
        return "support changes a status only by approving a request"
    if (
        group == "customer"
        and to is S.single_opt_in
        and not (cause.consent_recorded or cause.import_batch_id is not None)
    ):
        return "a new address is single opt-in only with the recipient's recorded permission"
    if group in ("customer", "support") and actor.user_id is None:
        return "a customer or support change must name the user who made it"
    return None


def allowed_sources(actor: Actor, to: EmailStatus, cause: Cause = Cause()) -> frozenset:
    """The statuses (None = new address) from which `actor` may move an address to `to`."""
    sources = RULES.get((_group(actor.kind), to), frozenset())
    if not sources:
        return sources
    # A requirement that is not met closes every source.
    if _missing_requirement(actor, to, cause):
        return frozenset()
    return sources


def check_transition(
    source: EmailStatus | None, to: EmailStatus, actor: Actor, cause: Cause = Cause()
) -> None:
    """Raise InvalidTransition with a readable reason unless `actor` may move `source` to `to`."""
    if source == to:
        raise InvalidTransition(f"the address is already {to.title.lower()}")
    label = "a new address" if source is None else f"{source.title.lower()}"
    if source in TERMINAL:
        raise InvalidTransition(f"{label} is final: nobody can change it")
    sources = RULES.get((_group(actor.kind), to), frozenset())
    if source not in sources:
        if source is S.opted_out_by_recipient:
            raise InvalidTransition("only the recipient can reverse their own opt-out")
        if source is S.opted_out_by_user and actor.kind is ActorKind.customer:
            raise InvalidTransition(
                "only support can reverse an opt-out, through an undo-opt-out request"
            )
        raise InvalidTransition(
            f"a {actor.kind.title.lower()} cannot change {label} to {to.title.lower()}"
        )
    missing = _missing_requirement(actor, to, cause)
    if missing:
        raise InvalidTransition(missing)


# The addresses each offer to many addresses at once may change (DOMAIN.md: Mass actions,
# Requests, Double opt-in). Each is a subset of what RULES lets that actor do.
ELIGIBLE_FOR_MASS_OPT_OUT = _OPEN
ELIGIBLE_FOR_MASS_OPT_IN = frozenset({S.non_marketable})
ELIGIBLE_FOR_DOUBLE_OPT_IN = frozenset({S.single_opt_in})
UNDOABLE = frozenset({S.opted_out_by_user})  # an undo restores only what is still opted out
# The prior statuses a mass opt-out records and an approved undo restores, in a fixed order.
RESTORABLE_BY_UNDO = (S.non_marketable, S.single_opt_in, S.double_opt_in)


def status_for_permission(permission: bool) -> EmailStatus:
    """The status a new address starts with, given the customer's answer on permission."""
    return S.single_opt_in if permission else S.non_marketable


class Offer(enum.Enum):
    """A change offered to many addresses at once, each with its own skip wording."""

    mass_opt_out = "mass_opt_out"
    mass_opt_in = "mass_opt_in"
    double_opt_in = "double_opt_in"
    undo_opt_out = "undo_opt_out"


ELIGIBLE_FOR = {
    Offer.mass_opt_out: ELIGIBLE_FOR_MASS_OPT_OUT,
    Offer.mass_opt_in: ELIGIBLE_FOR_MASS_OPT_IN,
    Offer.double_opt_in: ELIGIBLE_FOR_DOUBLE_OPT_IN,
    Offer.undo_opt_out: UNDOABLE,
}


def is_eligible(offer: Offer, status: EmailStatus) -> bool:
    """Whether `offer` may change an address of `status` (DOMAIN.md names each offer's set)."""
    return status in ELIGIBLE_FOR[offer]


class SkipReasons(NamedTuple):
    """Why an address of one status is left out of each offer; None: it is eligible."""

    mass_opt_out: str | None
    mass_opt_in: str | None
    double_opt_in: str | None
    undo_opt_out: str | None


_RECIPIENT_ONLY = "Opted out by the recipient (only they can opt back in)"
_RESTORED = "Already restored"
# The one table of skip wordings: a row per status, a column per offer. An undo's eligibility
# also depends on the batch (targets.still_from_batch): an address opted out by the customer
# but not eligible was opted out again by a later action.
SKIP_REASONS: dict[EmailStatus, SkipReasons] = {
    S.non_marketable: SkipReasons(None, None, "Not marketable: no permission on record", _RESTORED),
    S.single_opt_in: SkipReasons(None, "Already marketable", None, _RESTORED),
    S.double_opt_in: SkipReasons(
        None, "Already marketable", "Already confirmed (double opt-in)", _RESTORED
    ),
    S.opted_out_by_user: SkipReasons(
        "Already opted out by you",
        "Opted out by you (needs an undo-opt-out request)",
        "Opted out by you",
        "Opted out again by a later action",
    ),
    S.opted_out_by_recipient: SkipReasons(
        "Opted out by the recipient",
        _RECIPIENT_ONLY,
        "Opted out by the recipient",
        "Opted out by the recipient since (only they can opt back in)",
    ),
    S.spam_complaint: SkipReasons(
        "Spam complaint", "Spam complaint", "Spam complaint", "Spam complaint since"
    ),
    S.hard_bounce: SkipReasons("Hard bounce", "Hard bounce", "Hard bounce", "Hard bounce since"),
    S.invalid: SkipReasons(
        "Invalid address", "Invalid address", "Invalid address", "Marked invalid since"
    ),
}


def skip_reasons(offer: Offer) -> dict[EmailStatus, str]:
    """Status → why an address of that status is left out of `offer` (eligible ones absent)."""
    reasons = {status: getattr(row, offer.value) for status, row in SKIP_REASONS.items()}
    return {status: reason for status, reason in reasons.items() if reason is not None}
