from django.db.models import QuerySet
from django.utils import timezone

from .models import Agency, Membership


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """The active memberships a user may act through, in agencies active today."""
    return (
        Membership.objects.filter(
            user=user,
            is_active=True,
            agency__in=Agency.objects.active(on=timezone.localdate()),
        )
        .select_related("agency")
        .order_by("agency__name_kana", "agency__name", "id")
    )


def membership_get_for_user(*, user, membership_id: int | None) -> Membership | None:
    if membership_id is None:
        return None
    return membership_list_for_user(user=user).filter(id=membership_id).first()
