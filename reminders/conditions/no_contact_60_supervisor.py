"""No contact for 60 days: an open case without a consultation for the agency's
``no_contact_supervisor_days`` (60 unless the agency changed it; always more than
``no_contact_days``, so the caseworker hears first). To each active supervisor of the agency,
due on the day the silence reached that length. A logged contact ends it. Title: the label of
``Kind.NO_CONTACT_60_SUPERVISOR``."""

from collections.abc import Iterator
from datetime import timedelta

from ..models import Kind, TargetType
from ._common import Day, _keyset, _silent_cases, _supervisors, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("no_contact_supervisor_days"):
        cases = _silent_cases("no_contact_supervisor_days", days, today, targets)
        fields = ["public_id", "silent_since", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            supervisors = _supervisors(r["agency_id"] for r in rows)
            yield [
                (
                    Kind.NO_CONTACT_60_SUPERVISOR,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["silent_since"] + timedelta(days=days),
                    user_id,
                    r["agency_id"],
                )
                for r in rows
                for user_id in supervisors.get(r["agency_id"], [])
            ]
