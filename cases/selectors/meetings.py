"""Support coordination meetings (支援調整会議) of the viewer's agency."""

from uuid import UUID

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from agencies.permissions import Viewer
from audit.access_log import log_refused_attempt

from ..models import Client, Meeting, MeetingCase
from ..permissions import can_work_with_clients


def meeting_scope(*, viewer: Viewer) -> QuerySet[Meeting]:
    """Meetings the viewer's agency hosted. A partner agency that took part does not see them
    here: what it may learn of the people discussed reaches it through referrals and consent."""
    if not can_work_with_clients(viewer):
        return Meeting.objects.none()
    return Meeting.objects.filter(agency_id=viewer.membership.agency_id)


def meeting_list(*, viewer: Viewer) -> QuerySet[Meeting]:
    """The agency's meetings, newest first (a few a month: no paging needed)."""
    return (
        meeting_scope(viewer=viewer)
        .prefetch_related("participant_agencies")
        .annotate(case_count=Count("case_items"))
        .order_by("-held_on", "-id")
    )


def meeting_get(*, viewer: Viewer, public_id: UUID) -> Meeting:
    meeting = (
        meeting_scope(viewer=viewer)
        .prefetch_related(
            "participant_agencies",
            "participant_users",
            Prefetch(
                "case_items",
                queryset=MeetingCase.objects.select_related("case__client", "plan"),
            ),
        )
        .filter(public_id=public_id)
        .first()
    )
    if meeting is None:
        # A meeting is about the people on its agenda: the refusal is logged for each of them.
        for client in Client.objects.filter(
            cases__meeting_items__meeting__public_id=public_id
        ).distinct():
            log_refused_attempt(viewer=viewer, client=client)
        raise Http404
    return meeting
