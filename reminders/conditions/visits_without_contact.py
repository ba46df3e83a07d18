"""Supporter visits without contact: the agency's ``visits_without_contact`` latest home visits
of a client's supporters in a row reached nobody. To the primary caseworker of the client's
open case, due on the day of the visit that made the run long enough. A visit that reaches the
person ends it. Title: the label of ``Kind.VISITS_WITHOUT_CONTACT``."""

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber

from cases.models import HomeVisit
from cases.selectors import visits_without_contact_in_a_row

from ..models import Kind, TargetType
from ._common import Day, _keyset, _open_cases, _thresholds

# How many of a client's latest visits the "in a row" rule looks at. A run longer than this
# still fires; only its due date then moves with each new visit.
VISIT_HISTORY = 50


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """Supporters' visits that reached nobody, the agency's number of times in a row: the
    case's primary caseworker. "In a row" is the client page's rule
    (``cases.selectors.visits_without_contact_in_a_row``), applied to each client's latest
    visits fetched with one window query per batch. The due date is the day of the visit that
    made the run long enough, so a longer run does not remind again, and a visit that reaches
    the person ends it."""
    with_visits = HomeVisit.objects.filter(client=OuterRef("client"))
    for (threshold,) in _thresholds("visits_without_contact"):
        cases = _open_cases(targets).filter(
            Exists(with_visits), agency__visits_without_contact=threshold
        )
        fields = ["public_id", "client_id", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            latest: dict[int, list[HomeVisit]] = defaultdict(list)
            visits = (
                HomeVisit.objects.filter(client_id__in={r["client_id"] for r in rows})
                .annotate(
                    position=Window(
                        RowNumber(),
                        partition_by=[F("client_id")],
                        order_by=[F("visited_on").desc(), F("id").desc()],
                    )
                )
                .filter(position__lte=VISIT_HISTORY)
                .only("id", "client_id", "visited_on", "outcome")
                .order_by("client_id", "position")
            )
            for visit in visits:
                latest[visit.client_id].append(visit)
            batch = []
            for r in rows:
                newest_first = latest.get(r["client_id"], [])
                in_a_row = visits_without_contact_in_a_row(newest_first)
                if in_a_row < threshold:
                    continue
                batch.append(
                    (
                        Kind.VISITS_WITHOUT_CONTACT,
                        TargetType.CASE,
                        str(r["public_id"]),
                        newest_first[in_a_row - threshold].visited_on,
                        r["primary_worker_id"],
                        r["agency_id"],
                    )
                )
            yield batch
