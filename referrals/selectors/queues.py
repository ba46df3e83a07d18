"""The supervisors' queues of incoming and outgoing referrals.

The queues show no client data from another agency's record: a received referral shows the
receiving agency's own record once accepted, and nothing about the person before (the detail
page, behind the consent gate, does). The outgoing queue shows the sender's own client.

Age and "overdue" are the receiving agency's in both queues: it is the receiver who must answer,
within its own number of business days (``Agency.referral_alert_business_days``) counted on its
own calendar (``Agency.closed_year_end``), as the reminder to its supervisors counts them. In the
incoming queue that is the viewer's agency (one range bound on ``sent_at``); in the outgoing one
each row's receiver: the flag is computed per row from the receiving agency's fields joined into
the page query, and the filters keep one constant range bound on ``sent_at`` (the loosest of the
receivers') with the exact per-receiver bounds beside it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import IntegerField, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer, can_review_queues
from cases.permissions import can_work_with_clients
from consent.models import DataCategory
from core.business_days import add_business_days, business_days_between
from core.pagination import DEFAULT_PAGE_SIZE, keyset_page

from ..models import Referral, Status

INCOMING, OUTGOING = "incoming", "outgoing"
# The tabs of a queue, in the order a referral moves. Drafts are the sender's alone.
QUEUE_STATUSES = [
    Status.SENT,
    Status.ACCEPTED,
    Status.IN_SUPPORT,
    Status.COMPLETED,
    Status.DECLINED,
    Status.WITHDRAWN,
]
# Referrals a supervisor may still hand to a worker.
ASSIGNABLE_STATUSES = {Status.SENT, Status.ACCEPTED, Status.IN_SUPPORT}
# Counts above this show as "1,000+": counting stops there, so a queue with years of completed
# referrals costs what a new one does. The figures a supervisor acts on are far smaller.
COUNT_CAP = 1000
UNASSIGNED = "none"
QUEUE_ORDERING = ["sent_at", "id"]  # waiting longest first; matches the (agency, status, …) index
PAGE_SIZE = DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class QueueQuery:
    status: str = Status.SENT
    type: str = ""
    urgency: str = ""
    # Incoming: the assigned worker's user id, or UNASSIGNED. Outgoing: the sending worker's.
    worker: str = ""
    min_age: int | None = None  # business days since sending, at least
    overdue: bool = False  # unanswered past the agency's threshold


@dataclass(frozen=True)
class QueueRow:
    referral: Referral
    age: int  # business days since it was sent, up to today, on the receiving agency's calendar
    overdue: bool  # still unanswered past the receiving agency's threshold

    @property
    def category_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels.get(c, c)) for c in self.referral.categories]


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    capped: bool


@dataclass
class Queue:
    direction: str
    agency: Agency
    query: QueueQuery
    # Incoming: the viewer's agency's own threshold and calendar. Outgoing: None, each row is
    # judged by its receiving agency's.
    threshold: int | None
    workers: list[Membership]
    counts: list[StatusCount]
    rows: list[QueueRow] = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def may_assign(self) -> bool:
        return self.direction == INCOMING


def may_view_queue(viewer: Viewer, direction: str) -> bool:
    """Incoming: supervisors, who assign. Outgoing: also the caseworkers who send."""
    if direction == INCOMING:
        return can_review_queues(viewer)
    return can_work_with_clients(viewer)


def queue_workers(*, viewer: Viewer) -> list[Membership]:
    """The agency's caseworkers and supervisors: whom a referral can be assigned to."""
    if not can_work_with_clients(viewer):
        raise Http404
    return list(
        Membership.objects.filter(
            agency_id=viewer.membership.agency_id,
            is_active=True,
            role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .select_related("user")
        .only("id", "role", "agency_id", "user__id", "user__full_name", "user__full_name_kana")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def sent_before_for_age(min_age: int, *, today: date, closed_year_end: bool = True) -> datetime:
    """Referrals sent before this moment have waited at least ``min_age`` business days (on a
    calendar with or without the year-end closure).

    Age is monotonic in the sending date, so "at least n business days" is one range condition
    on ``sent_at`` — the index keeps serving it, and no row needs its age computed in SQL.
    """
    return _start_of(add_business_days(today + timedelta(days=1), -min_age, closed_year_end))


def _sent_before(bounds: dict[tuple, datetime], fields: tuple[str, ...]) -> Q:
    """``sent_at`` below the bound of the receiving agency's settings ``fields``, for receivers
    of any of the settings in ``bounds`` ({values of fields: bound}).

    The loosest bound comes first, alone, so the (from_agency, status, sent_at, id) index
    still gives a range to scan; the exact per-receiver bounds then filter within it."""
    loosest = max(bounds.values())
    if all(bound == loosest for bound in bounds.values()):
        return Q(sent_at__lt=loosest)
    exact = Q()
    for values, bound in bounds.items():
        exact |= Q(
            **{f"to_agency__{name}": value for name, value in zip(fields, values, strict=True)},
            sent_at__lt=bound,
        )
    return Q(sent_at__lt=loosest) & exact


def _outgoing_age_filters(
    referrals: QuerySet[Referral], query: QueueQuery, today: date
) -> QuerySet[Referral]:
    """The age and overdue filters of the outgoing queue, by each receiving agency's calendar
    and threshold."""
    if query.min_age:
        bounds = {
            (closed,): sent_before_for_age(query.min_age, today=today, closed_year_end=closed)
            for closed in (True, False)
        }
        referrals = referrals.filter(_sent_before(bounds, ("closed_year_end",)))
    if query.overdue:
        # The receivers' settings: a handful of distinct pairs whatever the number of agencies
        # (the reminder sweep asks the same way). One query, only with this filter on.
        pairs = Agency.objects.values_list(
            "referral_alert_business_days", "closed_year_end"
        ).distinct()
        # Never empty: the viewer's own agency is one of them.
        bounds = {
            (days, closed): sent_before_for_age(days + 1, today=today, closed_year_end=closed)
            for days, closed in pairs.order_by()
        }
        referrals = referrals.filter(
            _sent_before(bounds, ("referral_alert_business_days", "closed_year_end"))
        )
    return referrals


def _base(viewer: Viewer, direction: str, query: QueueQuery, today: date) -> QuerySet[Referral]:
    agency = viewer.membership.agency
    if direction == INCOMING:
        referrals = Referral.objects.filter(to_agency_id=agency.pk)
    else:
        referrals = Referral.objects.filter(from_agency_id=agency.pk)
    if query.type:
        referrals = referrals.filter(type=query.type)
    if query.urgency:
        referrals = referrals.filter(urgency=query.urgency)
    if query.worker:
        if direction == OUTGOING:
            referrals = referrals.filter(from_worker_id=query.worker)
        elif query.worker == UNASSIGNED:
            referrals = referrals.filter(assignee__isnull=True)
        else:
            referrals = referrals.filter(assignee_id=query.worker)
    if direction == OUTGOING:
        return _outgoing_age_filters(referrals, query, today)
    # Incoming: the viewer's agency is the receiver; its own threshold and calendar.
    min_age = query.min_age or 0
    if query.overdue:
        min_age = max(min_age, agency.referral_alert_business_days + 1)
    if min_age:
        referrals = referrals.filter(
            sent_at__lt=sent_before_for_age(
                min_age, today=today, closed_year_end=agency.closed_year_end
            )
        )
    return referrals


class _CappedCount(Subquery):
    """How many rows a sliced sub-select returns, ``(SELECT COUNT(*) FROM (sub-select))``: the
    slice caps the count, so it stops there however many rows match."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def _status_counts(referrals: QuerySet[Referral], agency: Agency) -> list[StatusCount]:
    """Every tab's count in one query, each stopping at COUNT_CAP + 1 rows.

    One capped sub-select per status, each a column of one row (read from the viewer's
    ``agency``, which is always there): each walks at most COUNT_CAP + 1 entries of the
    (agency, status, sent_at, id) index, however long the agency's history.
    """
    capped = [
        _CappedCount(referrals.filter(status=status).order_by().values("id")[: COUNT_CAP + 1])
        for status in QUEUE_STATUSES
    ]
    row = Agency.objects.filter(pk=agency.pk).order_by().values_list(*capped).get()
    found = dict(zip(QUEUE_STATUSES, row, strict=True))
    labels = dict(Status.choices)
    return [
        StatusCount(
            status=status,
            label=labels[status],
            count=min(found.get(status, 0), COUNT_CAP),
            capped=found.get(status, 0) > COUNT_CAP,
        )
        for status in QUEUE_STATUSES
    ]


def _page(referrals: QuerySet[Referral], direction: str) -> QuerySet[Referral]:
    # Only what a row shows: the snapshot and the free texts stay in the database.
    common = ["public_id", "type", "urgency", "status", "sent_at", "answered_at", "categories"]
    if direction == INCOMING:
        return referrals.select_related("from_agency", "assignee", "receiving_client").only(
            *common,
            "from_agency__name",
            "assignee__full_name",
            "receiving_client__public_id",
            "receiving_client__full_name",
        )
    return referrals.select_related("to_agency", "from_worker", "assignee", "client").only(
        *common,
        "to_agency__name",
        # Each row's age and overdue flag are the receiving agency's: its settings come along.
        "to_agency__referral_alert_business_days",
        "to_agency__closed_year_end",
        "from_worker__full_name",
        "assignee__full_name",
        "client__public_id",
        "client__full_name",
    )


def referral_queue(
    *,
    viewer: Viewer,
    direction: str,
    query: QueueQuery,
    cursor: str | None,
    workers: list[Membership] | None = None,
) -> Queue:
    """The incoming or outgoing queue of the viewer's agency: one status, oldest first.

    Three queries whatever the size: the workers (unless the caller has them already), the
    capped counts, the page; the outgoing queue filtered on "overdue" asks a fourth, the
    receivers' distinct settings.
    """
    if direction not in (INCOMING, OUTGOING) or not may_view_queue(viewer, direction):
        raise Http404
    if query.status not in QUEUE_STATUSES:
        raise Http404
    agency = viewer.membership.agency
    today = timezone.localdate()
    if workers is None:
        workers = queue_workers(viewer=viewer)
    base = _base(viewer, direction, query, today)
    counts = _status_counts(base, agency)
    referrals = base.filter(status=query.status)
    page = keyset_page(
        _page(referrals, direction),
        ordering=QUEUE_ORDERING,
        cursor=cursor,
        size=PAGE_SIZE,
    )
    rows = []
    for referral in page.items:
        # The receiver must answer: its threshold, its calendar (no query: the outgoing page
        # selected the receiving agency's settings with the row).
        receiver = agency if direction == INCOMING else referral.to_agency
        age = business_days_between(
            timezone.localdate(referral.sent_at), today, receiver.closed_year_end
        )
        rows.append(
            QueueRow(
                referral=referral,
                age=age,
                overdue=referral.status == Status.SENT
                and age > receiver.referral_alert_business_days,
            )
        )
    return Queue(
        direction=direction,
        agency=agency,
        query=query,
        threshold=agency.referral_alert_business_days if direction == INCOMING else None,
        workers=workers,
        counts=counts,
        rows=rows,
        next_cursor=page.next_cursor,
    )


def referrals_for_assign(*, viewer: Viewer, public_ids: list[UUID]) -> list[Referral]:
    """The received referrals a supervisor picked; any other agency's is a 404."""
    if not can_review_queues(viewer):
        raise Http404
    wanted = set(public_ids)
    referrals = list(
        Referral.objects.filter(to_agency_id=viewer.membership.agency_id, public_id__in=wanted)
        .exclude(status=Status.DRAFT)
        .order_by("sent_at", "id")
    )
    if not wanted or len(referrals) != len(wanted):
        raise Http404
    return referrals
