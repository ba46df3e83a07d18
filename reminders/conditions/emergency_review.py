"""Emergency disclosure to review: an emergency disclosure nobody has reviewed yet. To the
holding agency's active supervisors except the one who made it, at once and again every day
until one of them reviews it. No setting. Title: the label of ``Kind.EMERGENCY_REVIEW``."""

from collections.abc import Iterator

from consent.models import EmergencyDisclosure

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only, _supervisors


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """An emergency disclosure nobody has reviewed: the holding agency's supervisors, at once
    and again every day (the due date is today, so each day is a new reminder) until one of
    them reviews it. Re-checked (``today=None``), every day's row holds until then. Not the
    supervisor who made it: they may not review their own decision
    (``consent.permissions.can_review_emergency``)."""
    disclosures = _only(EmergencyDisclosure.objects.filter(reviewed_at__isnull=True), targets)
    fields = ["public_id", "client__agency_id", "disclosed_by_id"]
    for rows in _keyset(disclosures, fields, batch_size):
        supervisors = _supervisors(r["client__agency_id"] for r in rows)
        yield [
            (
                Kind.EMERGENCY_REVIEW,
                TargetType.EMERGENCY,
                str(r["public_id"]),
                today,
                user_id,
                r["client__agency_id"],
            )
            for r in rows
            for user_id in supervisors.get(r["client__agency_id"], [])
            if user_id != r["disclosed_by_id"]
        ]
