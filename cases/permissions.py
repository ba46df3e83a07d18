"""Who may see and change client records: the one place that decides.

Staff see clients of the agency they act as, and only through a caseworker or supervisor role;
roster rights alone give no sight of clients. (Supporters reach only the clients assigned to
them, and staff of linked agencies only what consent allows: both go through the selectors in
``cases.selectors``, which call these predicates.)
"""

from agencies.models import Role
from agencies.permissions import Viewer

from .models import Case, Client


def can_work_with_clients(viewer: Viewer) -> bool:
    membership = viewer.membership
    return bool(membership and membership.role in {Role.CASEWORKER, Role.SUPERVISOR})


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


def is_supporter(viewer: Viewer) -> bool:
    membership = viewer.membership
    return bool(membership and membership.role == Role.SUPPORTER)
