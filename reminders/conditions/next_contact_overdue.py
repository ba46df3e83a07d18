"""Planned contact is overdue: the agency's ``next_contact_overdue_days`` have passed since a
case's planned next contact day. To the case's primary caseworker, due on the day it became
overdue. Title: the label of ``Kind.NEXT_CONTACT_OVERDUE``."""

from collections.abc import Iterator
from datetime import timedelta

from ..models import Kind, TargetType
from ._common import Day, _keyset, _open_cases, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("next_contact_overdue_days"):
        overdue = timedelta(days=days)
        cases = _open_cases(targets).filter(
            agency__next_contact_overdue_days=days, next_contact_on__isnull=False
        )
        if today is not None:
            cases = cases.filter(next_contact_on__lte=today - overdue)
        fields = ["public_id", "next_contact_on", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NEXT_CONTACT_OVERDUE,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["next_contact_on"] + overdue,
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]
