"""Planned contact is due: a case's planned next contact day has come, and it is not overdue
yet. To the case's primary caseworker, due on the planned day. Setting: the agency's
``next_contact_overdue_days`` (from then on it is ``next_contact_overdue``). Title: the label
of ``Kind.NEXT_CONTACT_DUE``."""

from collections.abc import Iterator
from datetime import timedelta

from ..models import Kind, TargetType
from ._common import Day, _keyset, _open_cases, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    # From the planned day until it counts as overdue; an overdue contact gets the other kind.
    for (days,) in _thresholds("next_contact_overdue_days"):
        cases = _open_cases(targets).filter(
            agency__next_contact_overdue_days=days, next_contact_on__isnull=False
        )
        if today is not None:
            cases = cases.filter(
                next_contact_on__lte=today, next_contact_on__gt=today - timedelta(days=days)
            )
        fields = ["public_id", "next_contact_on", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NEXT_CONTACT_DUE,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["next_contact_on"],
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]
