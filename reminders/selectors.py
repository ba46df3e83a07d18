"""Reads of the notification centre: a person sees only their own reminders, in the agency they
act for now. Another person's reminder is a 404."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from agencies.permissions import Viewer
from cases.models import Case
from core.pagination import KeysetPage, keyset_page

from .models import Reminder, TargetType

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
    names = {
        TargetType.REFERRAL: "referrals:detail",
        TargetType.PLAN: "cases:plan",
        TargetType.CONSENT: "consent:detail",
    }
    links: dict[int, str | None] = {}
    for reminder in reminders:
        if reminder.target_type == TargetType.CASE:
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
