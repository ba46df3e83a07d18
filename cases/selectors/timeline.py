"""A client's timeline: every kind of entry (consultations, stage moves, plans and reviews,
meetings, home visits, the first contact, and what the apps above cases register: consents,
referrals) newest first, in keyset pages.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    CharField,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.permissions import Viewer
from core.pagination import KeysetPage, cursor_for, cursor_values, rows_after

from ..extensions import TimelineSource, timeline_sources
from ..models import (
    Client,
    Consultation,
    ConsultationRevision,
    HomeVisit,
    MeetingCase,
    Plan,
    PlanReview,
    StageMove,
)
from ..permissions import holds_client
from .scope import client_scope


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # one of timeline_entry_kinds()
    day: date
    at: object  # for ordering within a day
    obj: object


def _in_case_scope(client: Client, scope: QuerySet) -> Q:
    return Q(case__client=client, case__client__in=scope)


def _consultations(client, scope, pks):
    return (
        Consultation.objects.filter(_in_case_scope(client, scope), pk__in=pks)
        .select_related("family_member", "partner_agency")
        .annotate(
            revision_count=Coalesce(
                Subquery(
                    ConsultationRevision.objects.filter(consultation=OuterRef("pk"))
                    .order_by()
                    .values("consultation")
                    .annotate(n=Count("id"))
                    .values("n")
                ),
                0,
            ),
            staff_names=ArraySubquery(
                Consultation.staff.through.objects.filter(consultation=OuterRef("pk"))
                .order_by("id")
                .values("user__full_name")
            ),
        )
    )


def _local_day(field: str):
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


# The entries cases records itself; the apps above add theirs (cases.extensions).
CASES_SOURCES = (
    TimelineSource(
        "consultation",
        "consultation",
        _("Consultations"),
        rows=lambda client, scope: (
            Consultation.objects.filter(_in_case_scope(client, scope)),
            F("occurred_on"),
            F("created_at"),
        ),
        fetch=_consultations,
    ),
    TimelineSource.of_model(
        "stage",
        "stage",
        _("Stage moves"),
        StageMove,
        where=_in_case_scope,
        day=F("moved_on"),
        at=F("moved_at"),
        related=("moved_by",),
    ),
    TimelineSource.of_model(
        "plan",
        "plan",
        _("Plans and reviews"),
        Plan,
        where=_in_case_scope,
        day=Coalesce("agreed_on", _local_day("created_at")),
        at=F("created_at"),
        related=("created_by", "approved_at"),
    ),
    TimelineSource.of_model(
        "review",
        "plan",
        _("Plans and reviews"),
        PlanReview,
        where=lambda client, scope: Q(plan__case__client=client, plan__case__client__in=scope),
        day=F("reviewed_on"),
        at=F("created_at"),
        related=("plan", "reviewed_by"),
    ),
    TimelineSource.of_model(
        "meeting",
        "meeting",
        _("Meetings"),
        MeetingCase,
        where=_in_case_scope,
        day=F("meeting__held_on"),
        at=F("meeting__created_at"),
        related=("meeting", "plan"),
    ),
    TimelineSource.of_model(
        "visit",
        "visit",
        _("Home visits"),
        HomeVisit,
        where=lambda client, scope: Q(client=client, client__in=scope),
        day=F("visited_on"),
        at=F("created_at"),
        related=("supporter",),
    ),
)
# A first contact is the client row itself, for the holding agency only; it sorts last.
FIRST_CONTACT = ("first_contact", _("First contact"))

TIMELINE_PAGE_SIZE = 20
# Newest first; within a day by when it was written; kind and id make the order total.
_TIMELINE_ORDERING = ["-t_day", "-t_at", "-t_kind", "-t_id"]
# A first contact has no moment of its own: it sorts last within its day.
_NO_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)


def _sources() -> list[TimelineSource]:
    return [*CASES_SOURCES, *timeline_sources()]


def timeline_kind_choices() -> list[tuple[str, str]]:
    """The timeline's filters, in the order shown: cases' own, the registered ones, then the
    first contact."""
    choices: dict[str, str] = {}
    for source in _sources():
        choices.setdefault(source.filter_kind, source.filter_label)
    return [*choices.items(), FIRST_CONTACT]


def timeline_kinds() -> tuple[str, ...]:
    return tuple(kind for kind, _label in timeline_kind_choices())


def timeline_entry_kinds() -> frozenset[str]:
    return frozenset([*(source.kind for source in _sources()), FIRST_CONTACT[0]])


def _timeline_cursor(cursor: str | None) -> list | None:
    """The cursor's (day, at, kind, id), typed; None when there is none or it was edited."""
    values = cursor_values(cursor, len(_TIMELINE_ORDERING))
    if values is None:
        return None
    try:
        day, at, kind, pk = values
        typed = [date.fromisoformat(day), datetime.fromisoformat(at), str(kind), int(pk)]
    except (TypeError, ValueError):
        return None
    return typed if typed[2] in timeline_entry_kinds() and typed[1].tzinfo else None


def _timeline_rows(queryset: QuerySet, kind: str, *, day, at, after: list | None) -> QuerySet:
    """One source of the timeline as (kind, id, day, at) rows, the page's worth at most."""
    rows = queryset.annotate(
        t_kind=Value(kind, output_field=CharField()),
        t_id=F("id"),
        t_day=ExpressionWrapper(day, output_field=DateField()),
        t_at=ExpressionWrapper(at, output_field=DateTimeField()),
    )
    if after is not None:
        rows = rows.filter(rows_after(_TIMELINE_ORDERING, after))
    return rows.order_by(*_TIMELINE_ORDERING).values_list("t_kind", "t_id", "t_day", "t_at")


def _timeline_sources(viewer: Viewer, client: Client, kinds: tuple[str, ...]) -> dict:
    """{entry kind: (rows of the client, day, at)}, every source filtered through the scope in
    the same query: a client object that did not come from client_get still shows nothing the
    viewer may not see."""
    scope = client_scope(viewer=viewer)
    wanted = set(kinds)
    sources = {
        source.kind: source.rows(client, scope)
        for source in _sources()
        if source.filter_kind in wanted
    }
    if FIRST_CONTACT[0] in wanted and holds_client(viewer, client):
        sources[FIRST_CONTACT[0]] = (
            scope.filter(pk=client.pk, first_direct_contact_on__isnull=False),
            F("first_direct_contact_on"),
            Value(_NO_MOMENT),
        )
    return sources


def _timeline_objects(viewer: Viewer, client: Client, ids: dict[str, list[int]]) -> dict:
    """{(kind, id): object} for the rows of one page: one query per kind on the page, each
    joined as its entry shows it (again through the scope)."""
    scope = client_scope(viewer=viewer)
    by_kind = {source.kind: source for source in _sources()}
    # Kinds fetched with another's rows (a consent and its withdrawal are one row, fetched once).
    wanted: dict[str, set[int]] = {}
    for kind, pks in ids.items():
        source = by_kind.get(kind)
        fetched_as = source.fetched_with if source and source.fetched_with else kind
        wanted.setdefault(fetched_as, set()).update(pks)
    objects: dict[tuple[str, int], object] = {}
    for kind, pks in wanted.items():
        if kind == FIRST_CONTACT[0]:
            objects[(kind, client.pk)] = client
            continue
        aliases = [k for k, s in by_kind.items() if s.fetched_with == kind]
        for obj in by_kind[kind].fetch(client, scope, sorted(pks)):
            objects[(kind, obj.pk)] = obj
            for alias in aliases:
                objects[(alias, obj.pk)] = obj
    return objects


def client_timeline(
    *,
    viewer: Viewer,
    client: Client,
    kinds: tuple[str, ...] | None = None,
    cursor: str | None = None,
    size: int = TIMELINE_PAGE_SIZE,
) -> KeysetPage:
    """One page of everything that happened with the client, newest first, after ``cursor``.

    One UNION ALL query picks the page's (kind, id) rows — each source ordered and cut to the
    page on its own, so a long history costs what a short one does — then one query per kind
    on the page fetches what the entries show.
    """
    after = _timeline_cursor(cursor)
    kinds = timeline_kinds() if kinds is None else kinds
    parts = [
        _timeline_rows(rows, kind, day=day, at=at, after=after)[: size + 1]
        for kind, (rows, day, at) in _timeline_sources(viewer, client, kinds).items()
    ]
    if not parts:
        return KeysetPage(items=[], next_cursor=None)
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:
        union = union.order_by(*_TIMELINE_ORDERING)
    rows = list(union[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        kind, pk, day, at = rows[-1]
        next_cursor = cursor_for([day, at, kind, pk])
    ids: dict[str, list[int]] = {}
    for kind, pk, _day, _at in rows:
        ids.setdefault(kind, []).append(pk)
    objects = _timeline_objects(viewer, client, ids)
    entries = [
        TimelineEntry(kind, day, at, objects[(kind, pk)])
        for kind, pk, day, at in rows
        if (kind, pk) in objects
    ]
    return KeysetPage(items=entries, next_cursor=next_cursor)
