"""Who may do what with agencies and memberships: plain predicates, used everywhere."""

from .models import Membership, Role


def is_system_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_system_admin)


def can_see_client_data(membership: Membership | None) -> bool:
    # Roster rights alone give no sight of clients.
    return bool(membership and membership.role in {Role.CASEWORKER, Role.SUPERVISOR})


def can_review_queues(membership: Membership | None) -> bool:
    return bool(membership and membership.role == Role.SUPERVISOR)


def can_manage_roster(membership: Membership | None) -> bool:
    return bool(membership and membership.is_roster_admin)
