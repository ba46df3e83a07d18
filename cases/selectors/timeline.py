"""A client's timeline: every kind of entry (consultations, stage moves, plans and reviews,
meetings, home visits, consents, referrals, the first contact) newest first, in keyset pages.
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
from consent.models import Consent
from core.pagination import KeysetPage, cursor_for, cursor_values, rows_after
from referrals.models import Referral

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
    kind: str  # one of TIMELINE_ENTRY_KINDS
    day: date
    at: object  # for ordering within a day
    obj: object


TIMELINE_KIND_CHOICES = [
    ("consultation", _("Consultations")),
    ("stage", _("Stage moves")),
    ("plan", _("Plans and reviews")),
    ("meeting", _("Meetings")),
    ("visit", _("Home visits")),
    ("consent", _("Consents")),
    ("referral", _("Referrals")),
    ("first_contact", _("First contact")),
]
TIMELINE_KINDS = tuple(kind for kind, _label in TIMELINE_KIND_CHOICES)
# What each filter shows: a plan brings its reviews, a consent its withdrawal.
_TIMELINE_ENTRY_KINDS = {
    "consultation": ("consultation",),
    "stage": ("stage",),
    "plan": ("plan", "review"),
    "meeting": ("meeting",),
    "visit": ("visit",),
    "consent": ("consent", "consent_withdrawn"),
    "referral": ("referral",),
    "first_contact": ("first_contact",),
}
TIMELINE_ENTRY_KINDS = frozenset(k for kinds in _TIMELINE_ENTRY_KINDS.values() for k in kinds)
TIMELINE_PAGE_SIZE = 20
# Newest first; within a day by when it was written; kind and id make the order total.
_TIMELINE_ORDERING = ["-t_day", "-t_at", "-t_kind", "-t_id"]
# A first contact has no moment of its own: it sorts last within its day.
_NO_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)


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
    return typed if typed[2] in TIMELINE_ENTRY_KINDS and typed[1].tzinfo else None


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
    in_scope = Q(case__client=client, case__client__in=scope)
    local_day = TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    sent = Coalesce("sent_at", "created_at")
    sources = {
        "consultation": (Consultation.objects.filter(in_scope), F("occurred_on"), F("created_at")),
        "stage": (StageMove.objects.filter(in_scope), F("moved_on"), F("moved_at")),
        "plan": (
            Plan.objects.filter(in_scope),
            Coalesce("agreed_on", local_day),
            F("created_at"),
        ),
        "review": (
            PlanReview.objects.filter(plan__case__client=client, plan__case__client__in=scope),
            F("reviewed_on"),
            F("created_at"),
        ),
        "meeting": (
            MeetingCase.objects.filter(in_scope),
            F("meeting__held_on"),
            F("meeting__created_at"),
        ),
        "visit": (
            HomeVisit.objects.filter(client=client, client__in=scope),
            F("visited_on"),
            F("created_at"),
        ),
        "consent": (
            Consent.objects.filter(client=client, client__in=scope),
            F("obtained_on"),
            F("created_at"),
        ),
        "consent_withdrawn": (
            Consent.objects.filter(client=client, client__in=scope, withdrawn_by__isnull=False),
            F("ended_on"),
            F("created_at"),
        ),
        "referral": (
            Referral.objects.filter(
                Q(client=client) | Q(receiving_client=client),
                Q(client__in=scope) | Q(receiving_client__in=scope),
            ),
            TruncDate(sent, tzinfo=timezone.get_current_timezone()),
            sent,
        ),
    }
    if holds_client(viewer, client):
        sources["first_contact"] = (
            scope.filter(pk=client.pk, first_direct_contact_on__isnull=False),
            F("first_direct_contact_on"),
            Value(_NO_MOMENT),
        )
    wanted = {entry for kind in kinds for entry in _TIMELINE_ENTRY_KINDS.get(kind, ())}
    return {kind: source for kind, source in sources.items() if kind in wanted}


def _timeline_objects(viewer: Viewer, client: Client, ids: dict[str, list[int]]) -> dict:
    """{(kind, id): object} for the rows of one page: one query per kind on the page, each
    joined as its entry shows it (again through the scope)."""
    scope = client_scope(viewer=viewer)
    in_scope = Q(case__client=client, case__client__in=scope)
    fetch = {
        "consultation": lambda pks: (
            Consultation.objects.filter(in_scope, pk__in=pks)
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
        ),
        "stage": lambda pks: StageMove.objects.filter(in_scope, pk__in=pks).select_related(
            "moved_by"
        ),
        "plan": lambda pks: Plan.objects.filter(in_scope, pk__in=pks).select_related(
            "created_by", "approved_at"
        ),
        "review": lambda pks: PlanReview.objects.filter(
            plan__case__client=client, plan__case__client__in=scope, pk__in=pks
        ).select_related("plan", "reviewed_by"),
        "meeting": lambda pks: MeetingCase.objects.filter(in_scope, pk__in=pks).select_related(
            "meeting", "plan"
        ),
        "visit": lambda pks: HomeVisit.objects.filter(
            client=client, client__in=scope, pk__in=pks
        ).select_related("supporter"),
        "consent": lambda pks: Consent.objects.filter(
            client=client, client__in=scope, pk__in=pks
        ).select_related("recipient", "obtained_by", "withdrawn_by"),
        "referral": lambda pks: Referral.objects.filter(
            Q(client=client) | Q(receiving_client=client),
            Q(client__in=scope) | Q(receiving_client__in=scope),
            pk__in=pks,
        ).select_related("from_agency", "to_agency"),
    }
    # A consent and its withdrawal are one row, fetched once.
    ids = dict(ids)
    if withdrawn := ids.pop("consent_withdrawn", None):
        ids["consent"] = [*ids.get("consent", []), *withdrawn]
    objects: dict[tuple[str, int], object] = {}
    for kind, pks in ids.items():
        if kind == "first_contact":
            objects[(kind, client.pk)] = client
            continue
        for obj in fetch[kind](pks):
            objects[(kind, obj.pk)] = obj
            if kind == "consent":
                objects[("consent_withdrawn", obj.pk)] = obj
    return objects


def client_timeline(
    *,
    viewer: Viewer,
    client: Client,
    kinds: tuple[str, ...] = TIMELINE_KINDS,
    cursor: str | None = None,
    size: int = TIMELINE_PAGE_SIZE,
) -> KeysetPage:
    """One page of everything that happened with the client, newest first, after ``cursor``.

    One UNION ALL query picks the page's (kind, id) rows — each source ordered and cut to the
    page on its own, so a long history costs what a short one does — then one query per kind
    on the page fetches what the entries show.
    """
    after = _timeline_cursor(cursor)
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
