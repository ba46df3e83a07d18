"""Reads of the notification centre: a person sees only their own reminders, in the agency they
act for now. Another person's reminder is a 404."""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from agencies.permissions import Viewer
from cases.models import Case
from consent.models import EmergencyDisclosure
from core.pagination import KeysetPage, keyset_page

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


def unread_reminders(*, viewer: Viewer, limit: int = 5) -> list[Reminder]:
    """The viewer's newest unread reminders, for the caseload dashboard: one query whatever the
    numbers (one more row than shown tells whether there are more). Each opens through
    ``reminders:read``, which finds where it leads, so no link query is needed here."""
    if viewer.membership is None:
        return []
    return list(reminder_scope(viewer=viewer).filter(read_at=None).order_by(*ORDERING)[: limit + 1])


def reminder_get(*, viewer: Viewer, public_id: UUID) -> Reminder:
    reminder = reminder_scope(viewer=viewer).filter(public_id=public_id).first()
    if reminder is None:
        raise Http404
    return reminder


@dataclass(frozen=True)
class ReminderRow:
    reminder: Reminder
    link: str | None


def _links(viewer: Viewer, reminders: list[Reminder]) -> dict[int, str | None]:
    """Where each reminder leads. Only a case needs a look-up (its page is the client's): one
    query for the whole page, whatever its length."""
    case_ids = {r.target_id for r in reminders if r.target_type == TargetType.CASE}
    clients = {}
    if case_ids:
        clients = {
            str(case_id): client_id
            for case_id, client_id in Case.objects.filter(
                agency_id=viewer.membership.agency_id, public_id__in=case_ids
            ).values_list("public_id", "client__public_id")
        }
    # An emergency disclosure is reviewed from the client's page: one more query, only when
    # the page holds one.
    disclosure_ids = {r.target_id for r in reminders if r.target_type == TargetType.EMERGENCY}
    if disclosure_ids:
        clients |= {
            str(disclosure_id): client_id
            for disclosure_id, client_id in EmergencyDisclosure.objects.filter(
                client__agency_id=viewer.membership.agency_id, public_id__in=disclosure_ids
            ).values_list("public_id", "client__public_id")
        }
    names = {
        TargetType.REFERRAL: "referrals:detail",
        TargetType.PLAN: "cases:plan",
        TargetType.CONSENT: "consent:detail",
        TargetType.MEETING: "cases:meeting",
    }
    links: dict[int, str | None] = {}
    for reminder in reminders:
        if reminder.target_type in (TargetType.CASE, TargetType.EMERGENCY):
            client_id = clients.get(reminder.target_id)
            links[reminder.pk] = reverse("cases:client", args=[client_id]) if client_id else None
        else:
            links[reminder.pk] = reverse(names[reminder.target_type], args=[reminder.target_id])
    return links


def reminder_link(*, viewer: Viewer, reminder: Reminder) -> str | None:
    return _links(viewer, [reminder])[reminder.pk]


@dataclass(frozen=True)
class ReminderPage:
    rows: list[ReminderRow]
    next_cursor: str | None


def reminder_list(*, viewer: Viewer, cursor: str | None) -> ReminderPage:
    """One page of the viewer's reminders, newest first. Two queries at most: the page, and the
    cases' clients for the links."""
    page: KeysetPage = keyset_page(
        reminder_scope(viewer=viewer), ordering=ORDERING, cursor=cursor, size=PAGE_SIZE
    )
    links = _links(viewer, page.items) if page.items else {}
    return ReminderPage(
        rows=[ReminderRow(reminder=r, link=links[r.pk]) for r in page.items],
        next_cursor=page.next_cursor,
    )


@dataclass(frozen=True)
class QueueRow:
    kind: str
    label: str
    pending: int
    in_flight: int
    sent: int
    failed: int
    cancelled: int


def reminder_states(*, now=None) -> dict[str, Q]:
    """Each state of the queue as a condition: pending (waiting, a digest or a retry's backoff
    included), in flight (claimed by a live sender), sent, failed (the last try failed; the
    error is on the row), cancelled (the condition went away before sending)."""
    now = now or timezone.now()
    claimed = Q(claimed_at__gte=now - timedelta(seconds=settings.REMINDERS_CLAIM_GRACE_SECONDS))
    open_ = Q(sent_at__isnull=True, cancelled_at__isnull=True)
    return {
        "pending": open_ & ~claimed & Q(failed_at=None),
        "in_flight": open_ & claimed,
        "sent": Q(sent_at__isnull=False),
        "failed": open_ & ~claimed & ~Q(failed_at=None),
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
