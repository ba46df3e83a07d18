"""Reads of the notification centre: a person sees only their own reminders, in the agency they
act for now. Another person's reminder is a 404."""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from agencies.permissions import Viewer
from cases.models import Case, Meeting, Plan
from cases.selectors import in_client_scope, meeting_scope
from consent.models import Consent, EmergencyDisclosure
from core.pagination import KeysetPage, keyset_page
from referrals.models import Referral

from .models import Kind, Reminder, TargetType

PAGE_SIZE = 30
ORDERING = ["-created_at", "-id"]


def reminder_scope(*, viewer: Viewer) -> QuerySet[Reminder]:
    """The viewer's own reminders in their current agency; cancelled ones are never shown."""
    membership = viewer.membership
    if membership is None or not viewer.user.is_authenticated:
        return Reminder.objects.none()
    return Reminder.objects.filter(
        recipient_id=viewer.user.pk, agency_id=membership.agency_id, cancelled_at__isnull=True
    )


def unread_count(*, viewer: Viewer) -> int:
    if viewer.membership is None:
        return 0  # no query for people without an agency
    return reminder_scope(viewer=viewer).filter(read_at=None).count()


def unread_reminders(*, viewer: Viewer, limit: int = 5) -> list["ReminderRow"]:
    """The viewer's newest unread reminders, for the caseload dashboard: one query whatever the
    numbers (one more row than shown tells whether there are more), and one per kind of target
    among them for what each is about."""
    if viewer.membership is None:
        return []
    reminders = list(
        reminder_scope(viewer=viewer).filter(read_at=None).order_by(*ORDERING)[: limit + 1]
    )
    return reminder_rows(viewer=viewer, reminders=reminders)


def reminder_get(*, viewer: Viewer, public_id: UUID) -> Reminder:
    reminder = reminder_scope(viewer=viewer).filter(public_id=public_id).first()
    if reminder is None:
        raise Http404
    return reminder


@dataclass(frozen=True)
class ReminderTarget:
    """Where a reminder leads and what it is about, as the viewer may see it: the person's name
    only from a record the viewer's agency holds (``client_scope``), else the other agency."""

    link: str | None
    person: str = ""
    from_agency: str = ""
    # A 支援調整会議: when, where and who hosts it (no person: it may discuss several).
    meeting: dict | None = None


@dataclass(frozen=True)
class ReminderRow:
    reminder: Reminder
    target: ReminderTarget

    @property
    def link(self) -> str | None:
        return self.target.link


def _own_name(viewer: Viewer, path: str):
    """The name at ``path`` when that record is one the viewer's agency holds, else None."""
    return DbCase(
        When(in_client_scope(viewer=viewer, via=path), then=F(f"{path}__full_name")),
        default=None,
        output_field=CharField(),
    )


def _targets(viewer: Viewer, reminders: list[Reminder]) -> dict[int, ReminderTarget]:
    """Each reminder's link and subject: one query per kind of target on the page (six at the
    most), whatever its length. Names come only through ``in_client_scope``, the rule of who sees
    which record: a referral not yet accepted shows the sending agency, not the person."""
    ids: dict[str, set[str]] = {}
    for reminder in reminders:
        ids.setdefault(reminder.target_type, set()).add(reminder.target_id)
    scope = in_client_scope(viewer=viewer)
    found: dict[tuple[str, str], ReminderTarget] = {}

    def client_page(client_id) -> str:
        return reverse("cases:client", args=[client_id])

    if TargetType.CASE in ids:
        for public_id, client_id, name in Case.objects.filter(
            scope, public_id__in=ids[TargetType.CASE]
        ).values_list("public_id", "client__public_id", "client__full_name"):
            found[TargetType.CASE, str(public_id)] = ReminderTarget(client_page(client_id), name)
    # An emergency disclosure is reviewed from the client's page.
    if TargetType.EMERGENCY in ids:
        for public_id, client_id, name in EmergencyDisclosure.objects.filter(
            scope, public_id__in=ids[TargetType.EMERGENCY]
        ).values_list("public_id", "client__public_id", "client__full_name"):
            found[TargetType.EMERGENCY, str(public_id)] = ReminderTarget(
                client_page(client_id), name
            )
    if TargetType.PLAN in ids:
        for public_id, name in Plan.objects.filter(
            in_client_scope(viewer=viewer, via="case__client"), public_id__in=ids[TargetType.PLAN]
        ).values_list("public_id", "case__client__full_name"):
            found[TargetType.PLAN, str(public_id)] = ReminderTarget(
                reverse("cases:plan", args=[public_id]), name
            )
    if TargetType.CONSENT in ids:
        for public_id, name in Consent.objects.filter(
            scope, public_id__in=ids[TargetType.CONSENT]
        ).values_list("public_id", "client__full_name"):
            found[TargetType.CONSENT, str(public_id)] = ReminderTarget(
                reverse("consent:detail", args=[public_id]), name
            )
    if TargetType.REFERRAL in ids:
        # The sender holds the person's record; the receiver holds its own once accepted.
        for public_id, sender, sent_about, received_as in (
            Referral.objects.filter(public_id__in=ids[TargetType.REFERRAL])
            .annotate(
                sent_about=_own_name(viewer, "client"),
                received_as=_own_name(viewer, "receiving_client"),
            )
            .values_list("public_id", "from_agency__name", "sent_about", "received_as")
        ):
            person = sent_about or received_as or ""
            found[TargetType.REFERRAL, str(public_id)] = ReminderTarget(
                reverse("referrals:detail", args=[public_id]),
                person,
                from_agency="" if person else sender,
            )
    if TargetType.MEETING in ids:
        # A participant from another agency is told when and where; only the hosting agency's
        # staff open the meeting's record (its agenda names people).
        hosted = meeting_scope(viewer=viewer).filter(pk=OuterRef("pk"))
        for meeting in (
            Meeting.objects.filter(public_id__in=ids[TargetType.MEETING])
            .annotate(hosted=Exists(hosted))
            .values("public_id", "held_on", "start_time", "place", "agency__name", "hosted")
        ):
            public_id = meeting.pop("public_id")
            link = reverse("cases:meeting", args=[public_id]) if meeting["hosted"] else None
            found[TargetType.MEETING, str(public_id)] = ReminderTarget(link, meeting=meeting)
    gone = ReminderTarget(link=None)
    return {r.pk: found.get((r.target_type, r.target_id), gone) for r in reminders}


def reminder_row(*, viewer: Viewer, reminder: Reminder) -> ReminderRow:
    return ReminderRow(reminder=reminder, target=_targets(viewer, [reminder])[reminder.pk])


def reminder_rows(*, viewer: Viewer, reminders: list[Reminder]) -> list[ReminderRow]:
    targets = _targets(viewer, reminders) if reminders else {}
    return [ReminderRow(reminder=r, target=targets[r.pk]) for r in reminders]


@dataclass(frozen=True)
class ReminderPage:
    rows: list[ReminderRow]
    next_cursor: str | None


def reminder_list(*, viewer: Viewer, cursor: str | None) -> ReminderPage:
    """One page of the viewer's reminders, newest first: the page, then one query per kind of
    target on it for the links and names."""
    page: KeysetPage = keyset_page(
        reminder_scope(viewer=viewer), ordering=ORDERING, cursor=cursor, size=PAGE_SIZE
    )
    return ReminderPage(
        rows=reminder_rows(viewer=viewer, reminders=page.items), next_cursor=page.next_cursor
    )


@dataclass(frozen=True)
class QueueRow:
    kind: str
    label: str
    pending: int
    in_flight: int
    sent: int
    failed: int
    gave_up: int  # of the failed, those refused for good (until an operator re-queues them)
    cancelled: int


def reminder_states(*, now=None) -> dict[str, Q]:
    """Each state of the queue as a condition: pending (waiting, a digest or a retry's backoff
    included), in flight (claimed by a live sender), sent, failed (the last try failed; the
    error is on the row; "gave up" among them: refused for good as often as allowed, so no
    sender tries again until an operator re-queues it), cancelled (the condition went away
    before sending)."""
    now = now or timezone.now()
    claimed = Q(claimed_at__gte=now - timedelta(seconds=settings.REMINDERS_CLAIM_GRACE_SECONDS))
    open_ = Q(sent_at__isnull=True, cancelled_at__isnull=True)
    return {
        "pending": open_ & ~claimed & Q(failed_at=None),
        "in_flight": open_ & claimed,
        "sent": Q(sent_at__isnull=False),
        "failed": open_ & ~claimed & ~Q(failed_at=None),
        "gave_up": open_ & ~Q(gave_up_at=None),
        "cancelled": Q(cancelled_at__isnull=False, sent_at__isnull=True),
    }


def reminder_queue_summary(*, now=None) -> list[QueueRow]:
    """For operators (system admins, through the admin): per kind, how many reminders are in
    each state. One aggregate query."""
    states = reminder_states(now=now)
    counts = {
        row["kind"]: row
        for row in Reminder.objects.values("kind")
        .annotate(**{state: Count("id", filter=q) for state, q in states.items()})
        .order_by()
    }
    empty = dict.fromkeys(states, 0)
    return [
        QueueRow(kind=kind, label=str(label), **{k: counts.get(kind, empty)[k] for k in empty})
        for kind, label in Kind.choices
    ]
