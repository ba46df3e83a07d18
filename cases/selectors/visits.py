"""Supporters and home visits: a supporter's households and own visits, a client's assignments
and recent visits, and the urgent visits waiting for acknowledgement.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch
from django.http import Http404

from agencies.permissions import Viewer
from audit.access_log import log_refused_attempt

from ..models import Client, HomeVisit, SupporterAssignment
from ..permissions import is_supporter
from .scope import _refused, client_scope, in_client_scope


def supporter_assignments(*, viewer: Viewer) -> list[SupporterAssignment]:
    """ "My households": the supporter's active assignments, with their own last visit."""
    if not is_supporter(viewer):
        raise Http404
    return list(
        SupporterAssignment.objects.filter(supporter=viewer.membership, ended_on=None)
        .select_related("client")
        .prefetch_related(
            Prefetch(
                "client__home_visits",
                queryset=HomeVisit.objects.filter(supporter=viewer.user).order_by(
                    "-visited_on", "-id"
                ),
                to_attr="my_visits",
            )
        )
        .order_by("client__kana_key", "id")
    )


def supporter_assignment_get(*, viewer: Viewer, client_public_id: UUID) -> SupporterAssignment:
    """The supporter's way to a client: only through an active assignment, and only to the
    name, address, how to approach and their own visits."""
    if not is_supporter(viewer):
        _refused(viewer, Client.objects.filter(public_id=client_public_id))
    assignment = (
        SupporterAssignment.objects.filter(
            supporter=viewer.membership, ended_on=None, client__public_id=client_public_id
        )
        .select_related("client")
        .first()
    )
    if assignment is None:
        _refused(viewer, Client.objects.filter(public_id=client_public_id))
    return assignment


def supporter_own_visits(*, viewer: Viewer, client: Client) -> list[HomeVisit]:
    if not is_supporter(viewer):
        raise Http404
    return list(
        HomeVisit.objects.filter(client=client, supporter=viewer.user).order_by(
            "-visited_on", "-id"
        )
    )


def client_assignments(*, viewer: Viewer, client: Client) -> list[SupporterAssignment]:
    """The supporters dispatched to a client, for the caseworker's client page."""
    return list(
        SupporterAssignment.objects.filter(
            in_client_scope(viewer=viewer), client=client, ended_on=None
        ).select_related("supporter__user")
    )


def urgent_visits(*, viewer: Viewer) -> list[HomeVisit]:
    """Urgent visits nobody has acknowledged yet, for clients the viewer may see."""
    return list(
        # The agency's clients as a sub-select, hashed against the few rows of the partial
        # index visit_urgent_open: joined instead, PostgreSQL (which cannot know that only
        # urgent visits are ever acknowledged) expects thousands of open urgent visits and
        # scans every visit.
        HomeVisit.objects.filter(
            client__in=client_scope(viewer=viewer), is_urgent=True, acknowledged_at__isnull=True
        )
        .select_related("client", "supporter")
        .order_by("-visited_on", "-id")
    )


def urgent_visit_get(*, viewer: Viewer, public_id: UUID) -> HomeVisit:
    """An urgent visit to a client the viewer may see, acknowledged or not (a second click on
    "acknowledge" is no error). Anything else is a 404, logged when the visit exists."""
    visits = HomeVisit.objects.select_related("client").filter(public_id=public_id)
    visit = visits.filter(in_client_scope(viewer=viewer), is_urgent=True).first()
    if visit is None:
        found = visits.first()
        if found is not None:
            log_refused_attempt(viewer=viewer, client=found.client)
        raise Http404
    return visit


def visits_without_contact_in_a_row(visits: list[HomeVisit]) -> int:
    """How many of the latest visits (newest first) in a row reached nobody."""
    count = 0
    for visit in visits:
        if not visit.no_contact:
            break
        count += 1
    return count


# A supporter who reaches nobody three times running is a sign for the caseworker to try
# another way in (a letter, the family, a partner agency).
NO_CONTACT_NOTE_AFTER = 3


@dataclass(frozen=True)
class RecentVisits:
    """A client's latest home visits, newest first, iterable like the list it holds."""

    visits: list[HomeVisit]
    no_contact_in_a_row: int

    def __iter__(self):
        return iter(self.visits)

    def __len__(self) -> int:
        return len(self.visits)

    @property
    def no_contact_note(self) -> bool:
        return self.no_contact_in_a_row >= NO_CONTACT_NOTE_AFTER


def client_visits(*, viewer: Viewer, client: Client, limit: int = 20) -> RecentVisits:
    """The client's latest home visits by every supporter, for the caseworker's client page
    (one query, filtered through the scope: a supporter or another agency gets nothing)."""
    visits = list(
        HomeVisit.objects.filter(in_client_scope(viewer=viewer), client=client)
        .select_related("supporter", "acknowledged_by")
        .order_by("-visited_on", "-id")[:limit]
    )
    return RecentVisits(visits=visits, no_contact_in_a_row=visits_without_contact_in_a_row(visits))
