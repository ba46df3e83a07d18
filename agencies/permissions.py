"""Who may do what with the roster: plain predicates, used by services, selectors and templates.

A ``Viewer`` is the user and the membership they act through right now (None for a system admin
working outside any agency). Roster rights give no sight of clients.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.permissions import is_system_admin

from .models import Agency, Membership, Role

# Re-exported: every rule here is built beside it, and callers ask one module.
__all__ = [
    "Viewer",
    "can_administer_installation",
    "can_manage_agency",
    "can_manage_roster",
    "can_read_directory",
    "can_review_queues",
    "can_work_with_clients",
    "is_supervisor_of",
    "is_supporter",
    "is_system_admin",
    "must_use_second_factor",
]


@dataclass(frozen=True)
class Viewer:
    user: object
    membership: Membership | None

    @property
    def agency(self) -> Agency | None:
        return self.membership.agency if self.membership else None


def can_work_with_clients(viewer: Viewer) -> bool:
    """Caseworkers and supervisors work with client records (their own agency's, and another's
    only as far as the consent gate allows); roster rights alone give no sight of clients."""
    membership = viewer.membership
    return bool(membership and membership.role in {Role.CASEWORKER, Role.SUPERVISOR})


def is_supervisor_of(viewer: Viewer, agency_id: int) -> bool:
    membership = viewer.membership
    return bool(
        membership and membership.role == Role.SUPERVISOR and membership.agency_id == agency_id
    )


def is_supporter(viewer: Viewer) -> bool:
    membership = viewer.membership
    return bool(membership and membership.role == Role.SUPPORTER)


def can_review_queues(viewer: Viewer) -> bool:
    """Supervisors (主任相談支援員) watch the agency's referral queues and follow-ups."""
    membership = viewer.membership
    return bool(membership and membership.role == Role.SUPERVISOR)


def can_manage_roster(viewer: Viewer) -> bool:
    membership = viewer.membership
    return bool(membership and membership.is_roster_admin)


def can_read_directory(viewer: Viewer) -> bool:
    # Supporters see only their own profile; everyone else who works for an agency, and system
    # admins, may look up where to refer or introduce a client.
    if is_system_admin(viewer.user):
        return True
    membership = viewer.membership
    return bool(membership and (membership.role != Role.SUPPORTER or membership.is_roster_admin))


def can_manage_agency(viewer: Viewer, agency: Agency) -> bool:
    """Agency admins change only their own agency; system admins change any."""
    if is_system_admin(viewer.user):
        return True
    return bool(can_manage_roster(viewer) and viewer.membership.agency_id == agency.id)


def can_administer_installation(viewer: Viewer) -> bool:
    """Municipalities, networks, agencies of the whole installation, imports, the audit log."""
    return is_system_admin(viewer.user)


def obliges_second_factor(membership: Membership) -> bool:
    """A supervisor or roster admin, or anyone at an agency that asks it of all its staff."""
    return bool(
        membership.role == Role.SUPERVISOR
        or membership.is_roster_admin
        or membership.agency.require_two_factor
    )


def must_use_second_factor(user, memberships: Iterable[Membership]) -> bool:
    """Whether ``user`` must log in with a second factor (TOTP): system admins always, anyone
    else when one of the memberships they act through obliges it. A person working for
    several agencies must when any one of them asks."""
    if not user.is_authenticated:
        return False
    return is_system_admin(user) or any(obliges_second_factor(m) for m in memberships)
