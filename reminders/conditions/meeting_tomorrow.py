"""Support coordination meeting tomorrow: a 支援調整会議 is held tomorrow. To each participant
with an active membership, in the agency they take part for, due the day before the meeting.
Moving the meeting or leaving it ends it. No setting. Title: the label of
``Kind.MEETING_TOMORROW``."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from agencies.models import Membership
from cases.models import Meeting

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A 支援調整会議 held tomorrow: each participant, in the agency they take part for (the
    host's when they work there, else their own). Due the day before the meeting, so re-checked
    (``today=None``) it holds while the meeting is still on the day after the row's due date
    and the person still takes part: held over a day off, it is still emailed."""
    meetings = Meeting.objects.all()
    if today is not None:
        meetings = meetings.filter(held_on=today + timedelta(days=1))
    meetings = _only(meetings, targets)
    through = Meeting.participant_users.through
    for rows in _keyset(meetings, ["public_id", "agency_id", "held_on"], batch_size):
        participants = list(
            through.objects.filter(meeting_id__in=[r["id"] for r in rows]).values_list(
                "meeting_id", "user_id"
            )
        )
        agencies: dict[int, set[int]] = defaultdict(set)
        for user_id, agency_id in Membership.objects.filter(
            user_id__in={user_id for _m, user_id in participants},
            is_active=True,
            user__is_active=True,
        ).values_list("user_id", "agency_id"):
            agencies[user_id].add(agency_id)
        by_meeting = {r["id"]: r for r in rows}
        batch = []
        for meeting_id, user_id in participants:
            meeting = by_meeting[meeting_id]
            theirs = agencies.get(user_id)
            if not theirs:
                continue  # no active membership: nowhere to show it
            agency_id = meeting["agency_id"] if meeting["agency_id"] in theirs else min(theirs)
            batch.append(
                (
                    Kind.MEETING_TOMORROW,
                    TargetType.MEETING,
                    str(meeting["public_id"]),
                    meeting["held_on"] - timedelta(days=1),
                    user_id,
                    agency_id,
                )
            )
        yield batch
