"""Helpers more than one condition needs: the key a condition yields, reading in keyset batches,
the distinct agency settings, an agency's supervisors, open cases, silent cases, and the moment
before which something has waited more than a number of business days."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from cases.models import Case, Stage
from core.business_days import add_business_days

# (kind, target_type, target_id, due_on, recipient_id, agency_id)
Key = tuple[str, str, str, date, int, int]

# A day, or None: as of each key's own due date (the re-checks; see ``reminders.conditions``).
Day = date | None


def _keyset(queryset: QuerySet, fields: list[str], batch_size: int) -> Iterator[list[dict]]:
    """``queryset`` in batches of ``batch_size`` rows ordered by id: one short query per batch,
    never more than one batch in memory, and page n costs what page 1 does."""
    last_id = 0
    while True:
        rows = list(
            queryset.filter(id__gt=last_id).order_by("id").values("id", *fields)[:batch_size]
        )
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return  # a short batch is the last: no query to find nothing
        last_id = rows[-1]["id"]


def _thresholds(*fields: str) -> list[tuple]:
    """The distinct values of agency settings: a handful, whatever the number of agencies, so
    each condition runs one range query per distinct value and the date bound stays a
    constant the indexes can use."""
    return list(Agency.objects.values_list(*fields).distinct().order_by())


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _supervisors(agency_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active supervisors of each agency: who hears of what their caseworkers miss."""
    found: dict[int, list[int]] = defaultdict(list)
    memberships = Membership.objects.filter(
        agency_id__in=set(agency_ids),
        role=Role.SUPERVISOR,
        is_active=True,
        user__is_active=True,
    ).values_list("agency_id", "user_id")
    for agency_id, user_id in memberships:
        found[agency_id].append(user_id)
    return found


def _open_cases(targets: set[str] | None) -> QuerySet[Case]:
    cases = Case.objects.exclude(stage=Stage.CLOSED)
    return cases.filter(public_id__in=targets) if targets is not None else cases


def _only(queryset: QuerySet, targets: set[str] | None) -> QuerySet:
    return queryset.filter(public_id__in=targets) if targets is not None else queryset


def _silent_cases(field: str, days: int, today: Day, targets: set[str] | None):
    """Open cases without a consultation for ``days`` days (counted from the opening when there
    has been none), in agencies whose ``field`` setting is ``days``. A logged contact moves the
    start, so the old reminder's key no longer holds."""
    cases = (
        _open_cases(targets)
        .filter(**{f"agency__{field}": days})
        .annotate(silent_since=Coalesce("last_contact_on", "opened_on"))
    )
    if today is not None:
        cases = cases.filter(silent_since__lte=today - timedelta(days=days))
    return cases


def _waited_more_than(threshold: int, closed_year_end: bool, today: date) -> datetime:
    """Things that happened before this moment have waited more than ``threshold`` business
    days today (the queue's rule: age > threshold). Age grows with the start date, so this is
    one range condition on the timestamp, whatever the holidays."""
    start = add_business_days(today + timedelta(days=1), -(threshold + 1), closed_year_end)
    return _start_of(start)
