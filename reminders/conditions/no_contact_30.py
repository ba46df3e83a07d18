"""No contact for 30 days: an open case without a consultation for the agency's
``no_contact_days`` (30 unless the agency changed it), counted from the opening when there has
been none. To the case's primary caseworker, due on the day the silence reached that length. A
logged contact ends it. Title: the label of ``Kind.NO_CONTACT_30``."""

from collections.abc import Iterator
from datetime import timedelta

from ..models import Kind, TargetType
from ._common import Day, _keyset, _silent_cases, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("no_contact_days"):
        cases = _silent_cases("no_contact_days", days, today, targets)
        fields = ["public_id", "silent_since", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NO_CONTACT_30,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["silent_since"] + timedelta(days=days),
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]
