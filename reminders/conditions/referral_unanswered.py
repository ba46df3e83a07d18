"""Referral not answered: a sent つなぎ or 共同支援 still neither accepted nor declined after the
receiving agency's ``referral_alert_business_days`` business days (the same rule that marks it
overdue in the supervisors' queue; ``closed_year_end`` decides whether 年末年始 counts). To the
receiving agency's active supervisors, due on the first business day it is late. Title: the
label of ``Kind.REFERRAL_UNANSWERED``."""

from collections.abc import Iterator

from django.utils import timezone

from core.business_days import add_business_days
from referrals.models import NEEDS_CONSENT, Referral, Status

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only, _supervisors, _thresholds, _waited_more_than


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A sent referral still not accepted or declined after the receiving agency's number of
    business days (age > threshold, as the queue marks it overdue). Only one the receiver can
    open and answer: an introduction (紹介のみ) sends nothing, so there is nothing to answer."""
    referrals = _only(
        Referral.objects.filter(status=Status.SENT, type__in=NEEDS_CONSENT, sent_at__isnull=False),
        targets,
    )
    for threshold, closed in _thresholds("referral_alert_business_days", "closed_year_end"):
        due = referrals.filter(
            to_agency__referral_alert_business_days=threshold, to_agency__closed_year_end=closed
        )
        if today is not None:
            due = due.filter(sent_at__lt=_waited_more_than(threshold, closed, today))
        for rows in _keyset(due, ["public_id", "sent_at", "to_agency_id"], batch_size):
            supervisors = _supervisors(r["to_agency_id"] for r in rows)
            batch = []
            for r in rows:
                sent_on = timezone.localdate(r["sent_at"])
                due_on = add_business_days(sent_on, threshold + 1, closed)
                batch.extend(
                    (
                        Kind.REFERRAL_UNANSWERED,
                        TargetType.REFERRAL,
                        str(r["public_id"]),
                        due_on,
                        user_id,
                        r["to_agency_id"],
                    )
                    for user_id in supervisors.get(r["to_agency_id"], [])
                )
            yield batch
