"""The caseload: the open cases of a worker (or of the whole agency) by follow-up date, a page at
a time, and the counts shown above it.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, Count, F, Func, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from agencies.permissions import Viewer
from core.japanese import search_key
from core.pagination import DEFAULT_PAGE_SIZE, KeysetPage, keyset_page

from ..models import Case, CaseTopic, Stage, Topic
from ..permissions import can_work_with_clients

CASELOAD_ORDER = ["follow_up_on", "id"]
CASELOAD_PAGE_SIZE = DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class CaseloadRow:
    case: Case
    overdue: bool
    due_today: bool

    @property
    def main_topic_label(self) -> str:
        return str(dict(Topic.choices).get(self.case.main_topic, ""))


@dataclass(frozen=True)
class CaseloadCounts:
    open: int
    overdue: int
    due_today: int
    unplanned: int


class _AnyOf(Func):
    """``expression = ANY(ARRAY(sub-select))``. Inside an OR, ``IN (sub-select)`` is a filter
    PostgreSQL runs on every row; this is an index condition on the primary key instead."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        left, right = self.get_source_expressions()
        left_sql, left_params = compiler.compile(left)
        right_sql, right_params = compiler.compile(right)
        return f"{left_sql} = ANY({right_sql})", (*left_params, *right_params)


def _caseload_cases(*, viewer: Viewer, mine_only: bool) -> QuerySet[Case]:
    """The open cases of the viewer's agency, or only those the viewer is the primary
    caseworker or a co-worker of.

    A case belongs to its client's agency (case_open sets it from the client), so the case's
    own agency column is client_scope for cases; a sub-select of the agency's clients would
    make PostgreSQL hash all of them on every page and count.
    """
    if not can_work_with_clients(viewer):
        return Case.objects.none()
    cases = Case.objects.filter(agency_id=viewer.membership.agency_id).exclude(stage=Stage.CLOSED)
    if mine_only:
        # Mine from the (agency, primary_worker, stage) index OR'ed with the primary keys of
        # the cases I co-work: it costs what my own cases cost, not what the agency's do.
        co_worked = Case.co_workers.through.objects.filter(user_id=viewer.user.pk)
        cases = cases.filter(
            Q(primary_worker_id=viewer.user.pk)
            | Q(_AnyOf(F("id"), ArraySubquery(co_worked.values("case_id"))))
        )
    return cases


def _client_named(text: str) -> Q:
    """The case's client's name or reading holds ``text``, compared by search key (田中 太郎 =
    田中太郎 = ﾀﾅｶ ﾀﾛｳ = たなか たろう, as the client search): the whole text without its spaces,
    or else every word of it."""
    whole = search_key(text)
    if not whole:
        return Q()
    every_word = Q()
    for word in filter(None, (search_key(word) for word in text.split())):
        every_word &= Q(client__name_key__contains=word) | Q(client__kana_key__contains=word)
    return Q(client__name_key__contains=whole) | Q(client__kana_key__contains=whole) | every_word


def caseload(
    *,
    viewer: Viewer,
    mine_only: bool = True,
    cursor: str | None = None,
    case_id: UUID | None = None,
    text: str = "",
    due_only: bool = False,
    size: int = CASELOAD_PAGE_SIZE,
) -> KeysetPage:
    """One page of open cases (mine, or the whole agency's), next contact first and those
    without one last; overdue and due today flagged. ``case_id`` narrows it to that one case
    (the row a page refreshes after a consultation is logged); ``text`` to the clients whose
    name or reading holds it, and ``due_only`` to the overdue and due today. Filtered or not,
    it is the one query: the client is joined for the row already."""
    cases = (
        _caseload_cases(viewer=viewer, mine_only=mine_only)
        .select_related("client", "primary_worker")
        # The main topic in the same query (at most one per case, a partial unique key).
        .annotate(
            main_topic=Subquery(
                CaseTopic.objects.filter(case=OuterRef("pk"), is_main=True).values("topic")[:1]
            )
        )
    )
    today = timezone.localdate()
    if case_id is not None:
        cases = cases.filter(public_id=case_id)
    if text:
        cases = cases.filter(_client_named(text))
    if due_only:
        # follow_up_on, the order's own column: the keyset range just ends at today.
        cases = cases.filter(follow_up_on__lte=today)
    page = keyset_page(cases, ordering=CASELOAD_ORDER, cursor=cursor, size=size)
    rows = [
        CaseloadRow(
            case=case,
            overdue=bool(case.next_contact_on and case.next_contact_on < today),
            due_today=case.next_contact_on == today,
        )
        for case in page.items
    ]
    return KeysetPage(items=rows, next_cursor=page.next_cursor)


def caseload_counts(*, viewer: Viewer, mine_only: bool = True) -> CaseloadCounts:
    """The caseload's summary in one aggregate query over the same cases as its pages.

    Only follow_up_on is read (the next contact, or date.max for none), so for the agency the
    count is an index-only scan of case_open_follow_up."""
    today = timezone.localdate()
    counts = _caseload_cases(viewer=viewer, mine_only=mine_only).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(follow_up_on__lt=today)),
        due_today=Count("id", filter=Q(follow_up_on=today)),
        unplanned=Count("id", filter=Q(follow_up_on=date.max)),
    )
    return CaseloadCounts(**counts)
