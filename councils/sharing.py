"""What a 支援会議 shares, told to the consent gate (``consent.gate.register_share_source``).

An agenda item shares the client with a member agency on a day when: the item is on the agenda
(not taken off), the day is within its session's sharing dates, the council stands, and both
the viewer's agency and the holding agency are members that day. The dates are the models'
own rules (``SupportCouncil.objects.standing_on``, ``CouncilMember.objects.current_on``).
"""

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from consent.gate import Share

from .models import AgendaItem, CouncilMember, SupportCouncil


def shared_items(*, client, agency_id: int, on: date | None = None) -> QuerySet[AgendaItem]:
    """Agenda items sharing ``client`` with ``agency_id`` on the day, newest session first."""
    day = on or timezone.localdate()

    def member(agency_ref) -> Exists:
        return Exists(
            CouncilMember.objects.current_on(day).filter(
                council_id=OuterRef("session__council_id"), agency_id=agency_ref
            )
        )

    return (
        AgendaItem.objects.filter(
            client=client,
            withdrawn_at__isnull=True,
            session__sharing_from__lte=day,
            session__sharing_until__gte=day,
            session__council__in=SupportCouncil.objects.standing_on(day),
        )
        .filter(member(agency_id), member(client.agency_id))
        .select_related("session", "session__council")
        .order_by("-session__held_on", "-id")
    )


def agenda_shares(client, agency_id: int, day: date) -> list[Share]:
    """The share source the gate asks (registered in ``CouncilsConfig.ready``)."""
    return [
        Share(categories=tuple(item.categories), source=item)
        for item in shared_items(client=client, agency_id=agency_id, on=day)
    ]
