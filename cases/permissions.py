"""Who may see and change client records: the one place that decides.

Staff see clients of the agency they act as, and only through a caseworker or supervisor role;
roster rights alone give no sight of clients. (Supporters reach only the clients assigned to
them, and staff of linked agencies only what consent allows: both go through the selectors in
``cases.selectors``, which call these predicates.)
"""

from agencies.permissions import Viewer, can_work_with_clients, is_supporter

from .models import Case, Client

# The role predicates are the roster's (agencies.permissions); re-exported because every rule
# about client records below is built on them.
__all__ = [
    "can_assign_workers",
    "can_edit_case",
    "can_edit_client",
    "can_host_meeting",
    "can_work_with_clients",
    "holds_client",
    "is_supporter",
]


def holds_client(viewer: Viewer, client: Client) -> bool:
    """The viewer acts for the agency that holds this client's record."""
    return can_work_with_clients(viewer) and viewer.membership.agency_id == client.agency_id


def can_edit_client(viewer: Viewer, client: Client) -> bool:
    return holds_client(viewer, client)


def can_edit_case(viewer: Viewer, case: Case) -> bool:
    return holds_client(viewer, case.client)


def can_assign_workers(viewer: Viewer, case: Case) -> bool:
    # Any caseworker may hand a case to a colleague; supervisors watch the result.
    return can_edit_case(viewer, case)


def can_host_meeting(viewer: Viewer, meeting) -> bool:
    """A 支援調整会議 is recorded by the hosting agency's caseworkers and supervisors."""
    return can_work_with_clients(viewer) and viewer.membership.agency_id == meeting.agency_id
