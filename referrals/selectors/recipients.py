"""Whom a referral may go to: the agencies that receive referrals through Tsunagu, and who at
the viewer's agency may be given an accepted one.
"""

from django.db.models import QuerySet
from django.http import Http404, QueryDict

from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer
from cases.permissions import can_work_with_clients


def referral_recipients(*, viewer: Viewer) -> QuerySet[Agency]:
    """Agencies that receive referrals through Tsunagu today, other than the viewer's own."""
    if not can_work_with_clients(viewer):
        return Agency.objects.none()
    return (
        Agency.objects.active()
        .filter(receives_referrals=True)
        .exclude(pk=viewer.membership.agency_id)
        .order_by("name_kana", "name", "id")
    )


def referral_recipients_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The agency picker's "referral-recipient" purpose (the referral form)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return referral_recipients(viewer=viewer)


def receiving_staff(*, viewer: Viewer) -> QuerySet[Membership]:
    """Who at the viewer's agency may be given an accepted referral."""
    if not can_work_with_clients(viewer):
        return Membership.objects.none()
    return (
        Membership.objects.filter(
            agency_id=viewer.membership.agency_id,
            is_active=True,
            role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .select_related("user")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )
