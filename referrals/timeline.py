"""Referrals on a client's timeline (registered with cases in ``ReferralsConfig.ready``): those
the client was sent with, and those that made this record, on the day they were sent."""

from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.extensions import TimelineSource

from .models import Referral


def _of(client, scope) -> Q:
    return (Q(client=client) | Q(receiving_client=client)) & (
        Q(client__in=scope) | Q(receiving_client__in=scope)
    )


def _sent():
    return Coalesce("sent_at", "created_at")


REFERRALS = TimelineSource.of_model(
    "referral",
    "referral",
    _("Referrals"),
    Referral,
    where=_of,
    day=TruncDate(_sent(), tzinfo=timezone.get_current_timezone()),
    at=_sent(),
    related=("from_agency", "to_agency"),
)
