"""The consent gate: the one place that decides what of a client's record a person or an agency
outside the holding agency may see, and on what basis.

There are only these ways through:

- ``HOLDER``: the agency's own record (its caseworkers and supervisors);
- ``CONSENT``: a valid 本人同意 to the viewer's agency covering the category — for a person, only
  while the two agencies are linked by an accepted つなぎ or 共同支援;
- ``COUNCIL``: a 支援会議 (生活困窮者自立支援法 9条 / 社会福祉法 106条の6) whose session has the
  client on its agenda with the category shared, within the session's sharing dates, both
  agencies being members on the day;
- ``EMERGENCY``: an emergency disclosure (個人情報保護法 27条1項2号) to the viewer's agency covering
  the category, until it expires or is ended.

Nothing here is cached, so a withdrawal, an expiry or a left membership takes effect on the very
next call. ``open_record`` is what pages call: it decides and writes the access log in one step,
and refuses to show anything when the log cannot be written.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.permissions import Viewer, is_system_admin

from .models import Consent, DataCategory, EmergencyDisclosure, Purpose

NOT_CONSENTED = _("No consent")


class Basis:
    HOLDER = "holder"
    CONSENT = "consent"
    COUNCIL = "council"
    EMERGENCY = "emergency"
    # What crossed with a referral after it was accepted: the recipient's own copy.
    PROVIDED = "provided"

    LABELS = {
        HOLDER: _("Own record"),
        CONSENT: _("Consent"),
        COUNCIL: _("Support council"),
        EMERGENCY: _("Emergency (APPI Art. 27(1)(ii))"),
        PROVIDED: _("Provided with consent"),
    }


@dataclass(frozen=True)
class Decision:
    """For one category: allowed or not, on what basis, and the row that allows it."""

    allowed: bool
    basis: str | None
    consent: Consent | None = None
    source: object | None = None

    def __bool__(self) -> bool:
        return self.allowed


DENIED = Decision(allowed=False, basis=None)


@dataclass(frozen=True)
class RecordAccess:
    """What one viewer may see of one client record right now, category by category."""

    client: object
    decisions: dict[str, Decision] = field(default_factory=dict)
    linked: bool = False

    def allows(self, category: str) -> bool:
        return self.decision(category).allowed

    def decision(self, category: str) -> Decision:
        if category not in DataCategory.values:
            raise ValueError(f"unknown data category {category!r}")
        return self.decisions.get(category, DENIED)

    @property
    def shown(self) -> list[str]:
        return [c for c in DataCategory.values if self.allows(c)]

    @property
    def withheld(self) -> list[str]:
        return [c for c in DataCategory.values if not self.allows(c)]

    @property
    def is_holder(self) -> bool:
        return any(d.basis == Basis.HOLDER for d in self.decisions.values())

    @property
    def bases(self) -> list[str]:
        return sorted({d.basis for d in self.decisions.values() if d.allowed})

    @property
    def emergency(self) -> list[EmergencyDisclosure]:
        found = {
            d.source.pk: d.source for d in self.decisions.values() if d.basis == Basis.EMERGENCY
        }
        return list(found.values())

    @property
    def any(self) -> bool:
        return bool(self.shown)


# --- Agency level: what may reach an agency ----------------------------------------------------


# The purposes a consent may be given for that open the consent basis: passing the record with
# a つなぎ and the live view of a linked partner. A consent "for a support coordination meeting"
# covers speaking of the person at that meeting, with the participants present — not a copy
# or a live view for an agency (個人情報保護法: used only for the purpose the person agreed to).
SHARING_PURPOSES = (Purpose.REFERRAL, Purpose.JOINT_SUPPORT)


def valid_consents(*, client, recipient, on: date | None = None):
    """Consents of ``client`` to ``recipient`` for sharing, valid on the day (today by default)."""
    day = on or timezone.localdate()
    return Consent.objects.filter(
        client=client,
        recipient=recipient,
        purpose__in=SHARING_PURPOSES,
        obtained_on__lte=day,
        valid_until__gte=day,
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def consented_categories(*, client, recipient, on: date | None = None) -> dict[str, Consent]:
    """{category: the consent that covers it} for what may pass to ``recipient`` today."""
    covered: dict[str, Consent] = {}
    for consent in valid_consents(client=client, recipient=recipient, on=on).order_by(
        "-obtained_on", "-id"
    ):
        for category in consent.categories:
            covered.setdefault(category, consent)
    return covered


def may_share(*, client, recipient, category: str, on: date | None = None) -> Decision:
    """May ``category`` of ``client``'s record be *passed* to ``recipient`` (a referral)?

    Passing needs the person's consent; the emergency and 支援会議 bases allow showing, not
    sending a copy."""
    if category not in DataCategory.values:
        raise ValueError(f"unknown data category {category!r}")
    if recipient.pk == client.agency_id:
        return Decision(allowed=True, basis=Basis.HOLDER)
    consent = consented_categories(client=client, recipient=recipient, on=on).get(category)
    if consent is None:
        return DENIED
    return Decision(allowed=True, basis=Basis.CONSENT, consent=consent, source=consent)


def active_emergencies(*, client, recipient_id: int, at: datetime | None = None):
    moment = at or timezone.now()
    return EmergencyDisclosure.objects.filter(
        client=client, recipient_id=recipient_id, disclosed_at__lte=moment, expires_at__gt=moment
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=moment))


def council_items(*, client, agency_id: int, on: date | None = None):
    """Agenda items sharing ``client`` with ``agency_id`` today: the session's sharing dates
    hold, the council stands, and both the viewer's and the holder's agency are members."""
    from councils.models import AgendaItem, CouncilMember

    day = on or timezone.localdate()

    def member(agency_ref):
        return Exists(
            CouncilMember.objects.filter(
                council_id=OuterRef("session__council_id"),
                agency_id=agency_ref,
                joined_on__lte=day,
            ).filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        )

    return (
        AgendaItem.objects.filter(
            client=client,
            withdrawn_at__isnull=True,
            session__sharing_from__lte=day,
            session__sharing_until__gte=day,
            session__council__established_on__lte=day,
        )
        .filter(Q(session__council__ended_on__isnull=True) | Q(session__council__ended_on__gt=day))
        .filter(member(agency_id), member(client.agency_id))
        .select_related("session", "session__council")
        .order_by("-session__held_on", "-id")
    )


def is_linked(*, client, agency_id: int) -> bool:
    """An accepted つなぎ or 共同支援 joins ``agency_id`` to this record, in either direction:
    the receiver looks at the sender's record, the sender at the record the receiver made."""
    from referrals.models import NEEDS_CONSENT, RECEIVED, Referral

    return (
        Referral.objects.filter(type__in=NEEDS_CONSENT, status__in=RECEIVED)
        .filter(
            Q(client=client, to_agency_id=agency_id)
            | Q(receiving_client=client, from_agency_id=agency_id)
        )
        .exists()
    )


# --- Person level: what a viewer may see --------------------------------------------------------


def record_access(*, viewer: Viewer, client, at: datetime | None = None) -> RecordAccess:
    """What ``viewer`` may see of ``client``'s record now. The one rule, for every path."""
    from cases.permissions import can_work_with_clients, holds_client

    if holds_client(viewer, client):
        return RecordAccess(
            client,
            {c: Decision(allowed=True, basis=Basis.HOLDER) for c in DataCategory.values},
            linked=True,
        )
    # Supporters, administrative staff and system admins never see another agency's client.
    if not can_work_with_clients(viewer):
        return RecordAccess(client)
    agency_id = viewer.membership.agency_id
    moment = at or timezone.now()
    day = timezone.localdate(moment)
    decisions: dict[str, Decision] = {}
    linked = is_linked(client=client, agency_id=agency_id)
    if linked:
        for category, consent in consented_categories(
            client=client, recipient=viewer.membership.agency, on=day
        ).items():
            decisions[category] = Decision(True, Basis.CONSENT, consent=consent, source=consent)
    for item in council_items(client=client, agency_id=agency_id, on=day):
        for category in item.categories:
            decisions.setdefault(category, Decision(True, Basis.COUNCIL, source=item))
    for disclosure in active_emergencies(client=client, recipient_id=agency_id, at=moment):
        for category in disclosure.categories:
            decisions.setdefault(category, Decision(True, Basis.EMERGENCY, source=disclosure))
    return RecordAccess(client, decisions, linked=linked)


def referral_copy_access(*, viewer: Viewer, referral) -> RecordAccess:
    """What of a referral's snapshot (the copy that crossed) the viewer may see.

    The sender holds the record. The receiver sees it while deciding only as far as the
    person's consent covers it today (a withdrawal hides it at once), all of it once accepted
    (it was lawfully provided and is now the receiver's own record), and nothing of a referral
    it declined or that was withdrawn."""
    from cases.permissions import can_work_with_clients
    from referrals.models import RECEIVED, Status
    from referrals.permissions import Side, side_of

    side = side_of(viewer, referral) if can_work_with_clients(viewer) else None
    client = referral.client
    if side == Side.SENDER:
        return RecordAccess(
            client, {c: Decision(True, Basis.HOLDER) for c in DataCategory.values}, linked=True
        )
    decisions: dict[str, Decision] = {}
    if side == Side.RECEIVER and referral.status == Status.SENT:
        covered = consented_categories(client=client, recipient=referral.to_agency)
        decisions = {
            c: Decision(True, Basis.CONSENT, consent=covered[c], source=covered[c])
            for c in referral.categories
            if c in covered
        }
    elif side == Side.RECEIVER and referral.status in RECEIVED:
        decisions = {c: Decision(True, Basis.PROVIDED) for c in referral.categories}
    return RecordAccess(client, decisions)


# --- The access log ------------------------------------------------------------------------------


class AccessLogUnavailableError(Exception):
    """The access log could not be written, so the page must not be shown."""


def needs_access_log(viewer: Viewer, client) -> bool:
    """Looks by the holding agency's own staff are their daily work; everything else is logged."""
    if is_system_admin(viewer.user):
        return True
    membership = viewer.membership
    return membership is None or membership.agency_id != client.agency_id


def log_access(
    *, viewer: Viewer, client, access: RecordAccess | None, page: str = "", path: str = ""
) -> None:
    """Write one access-log entry (``access`` None: a denied attempt). Fail closed.

    The page defaults to the one the request is on (set by ``audit.middleware``)."""
    from audit.context import current_page
    from audit.models import AccessEntry, AccessOutcome

    if not page and not path:
        page, path = current_page().name, current_page().path
    shown = access.shown if access is not None else []
    # Shown: the page was shown, even if only with placeholders (a linked agency after a
    # withdrawal); denied: the record was refused.
    page_shown = access is not None and (access.any or access.linked)
    try:
        with transaction.atomic():
            AccessEntry.objects.create(
                at=timezone.now(),
                user=viewer.user,
                agency_id=viewer.membership.agency_id if viewer.membership else None,
                client=client,
                outcome=AccessOutcome.SHOWN if page_shown else AccessOutcome.DENIED,
                basis=",".join(access.bases) if access is not None else "",
                categories=shown,
                withheld=[c for c in DataCategory.values if c not in shown],
                page=page[:100],
                path=path[:300],
            )
    except DatabaseError as error:
        raise AccessLogUnavailableError from error


def open_referral_copy(*, viewer: Viewer, referral) -> RecordAccess:
    """``referral_copy_access``, with the receiving side's look written to the access log."""
    access = referral_copy_access(viewer=viewer, referral=referral)
    if needs_access_log(viewer, referral.client):
        log_access(viewer=viewer, client=referral.client, access=access)
    return access


def log_denied_attempt(*, viewer: Viewer, client) -> None:
    """A client record was asked for and refused (the caller answers 404)."""
    if viewer.user.is_authenticated:
        log_access(viewer=viewer, client=client, access=None)


def open_record(*, viewer: Viewer, client, page: str = "", path: str = "") -> RecordAccess:
    """Decide what ``viewer`` may see of ``client`` and log the look when it must be logged.

    Callers show nothing when this raises: if the log cannot be written, the page is refused.
    """
    access = record_access(viewer=viewer, client=client)
    # The holding agency's own supporters and administrative staff are refused like anyone
    # else, and their refusal is logged like anyone else's.
    if needs_access_log(viewer, client) or not access.is_holder:
        log_access(viewer=viewer, client=client, access=access, page=page, path=path)
    return access
