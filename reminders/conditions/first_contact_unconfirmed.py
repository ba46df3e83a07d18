"""First interview not confirmed: an accepted つなぎ or 共同支援 whose 初回面談 is still not
recorded after ``first_contact_business_days`` business days from the answer, each side by its
own agency's setting (and its ``closed_year_end``). To the receiving agency's assigned worker and
to the sending worker, due on the first business day it is late. Title: the label of
``Kind.FIRST_CONTACT_UNCONFIRMED``."""

from collections.abc import Iterator

from django.utils import timezone

from core.business_days import add_business_days
from referrals.models import NEEDS_CONSENT, Referral, Status

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only, _thresholds, _waited_more_than


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """An accepted つなぎ or 共同支援 whose 初回面談 is still not recorded after the business days
    of each side's own agency: the receiving agency's assigned worker and the sending worker.
    An introduction has no first interview to confirm: the person makes the contact."""
    referrals = _only(
        Referral.objects.filter(
            type__in=NEEDS_CONSENT,
            status__in=[Status.ACCEPTED, Status.IN_SUPPORT],
            first_contact_on__isnull=True,
            answered_at__isnull=False,
        ),
        targets,
    )
    for worker, agency in (("assignee_id", "to_agency"), ("from_worker_id", "from_agency")):
        for threshold, closed in _thresholds("first_contact_business_days", "closed_year_end"):
            due = referrals.filter(
                **{
                    f"{agency}__first_contact_business_days": threshold,
                    f"{agency}__closed_year_end": closed,
                }
            )
            if today is not None:
                due = due.filter(answered_at__lt=_waited_more_than(threshold, closed, today))
            fields = ["public_id", "answered_at", worker, f"{agency}_id"]
            for rows in _keyset(due, fields, batch_size):
                yield [
                    (
                        Kind.FIRST_CONTACT_UNCONFIRMED,
                        TargetType.REFERRAL,
                        str(r["public_id"]),
                        add_business_days(
                            timezone.localdate(r["answered_at"]), threshold + 1, closed
                        ),
                        r[worker],
                        r[f"{agency}_id"],
                    )
                    for r in rows
                    if r[worker] is not None
                ]
