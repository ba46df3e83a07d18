"""Writes to the agency roster. Each takes the acting user first and runs in one transaction."""

from django.db import transaction

from accounts.models import User

from .models import Agency, Membership, Role


@transaction.atomic
def membership_ensure(
    *, actor: User | None, user: User, agency: Agency, role: Role, is_roster_admin: bool = False
) -> Membership:
    """Give ``user`` the role at ``agency`` (idempotent: an existing membership is updated).

    ``actor`` is None only for the demo seeding, which runs outside any request.
    """
    membership, _ = Membership.objects.update_or_create(
        user=user,
        agency=agency,
        defaults={"role": role, "is_roster_admin": is_roster_admin, "is_active": True},
    )
    return membership
