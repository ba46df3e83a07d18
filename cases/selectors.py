"""Every read of clients, cases and consultation records goes through here.

``client_scope`` is the single place that decides which client records a viewer reaches; every
other selector starts from it (never from ``Client.objects.all()``). Another agency's client is
a 404, not a 403: we do not confirm that a record exists.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NoReturn
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from agencies.permissions import Viewer
from consent.gate import Decision, RecordAccess, log_denied_attempt, open_record
from consent.models import Consent, DataCategory, EmergencyDisclosure
from core.japanese import search_key
from core.pagination import (
    DEFAULT_PAGE_SIZE,
    KeysetPage,
    cursor_for,
    cursor_values,
    keyset_page,
    rows_after,
)
from referrals.models import Referral

from .models import (
    PARENTS,
    Case,
    CaseTopic,
    Client,
    Consultation,
    ConsultationRevision,
    GoalReview,
    HomeVisit,
    Household,
    HouseholdMember,
    Meeting,
    MeetingCase,
    Plan,
    PlanGoal,
    PlanItem,
    PlanReview,
    Relationship,
    Stage,
    StageMove,
    SupporterAssignment,
    Topic,
)
from .permissions import can_work_with_clients, holds_client, is_supporter
from .record_data import RecordSection, record_data, record_sections

# The "8050" pattern (an older parent living with a middle-aged child in withdrawal), as the
# notices describe it; the thresholds are the looser "7040" so it is seen early.
OLDER_PARENT_AGE = 70
MIDDLE_AGED_CHILD_AGE = 40


def in_client_scope(*, viewer: Viewer, via: str | None = "client") -> Q:
    """The one rule of who sees which client, as a condition: the client record (``via`` a
    relation, or the row itself for ``via=None``) is held by the viewer's agency.

    Rows that point at a client filter with this rather than ``client__in=client_scope(…)``:
    a join on the client's agency lets PostgreSQL start from the few rows wanted, where the
    sub-select makes it hash every client of the agency first (30,000 in a large city).
    """
    if not can_work_with_clients(viewer):
        return Q(pk__in=[])
    return Q(**{f"{via}__agency_id" if via else "agency_id": viewer.membership.agency_id})


def client_scope(*, viewer: Viewer) -> QuerySet[Client]:
    """The client records this viewer may open."""
    return Client.objects.filter(in_client_scope(viewer=viewer, via=None))


def case_scope(*, viewer: Viewer) -> QuerySet[Case]:
    return Case.objects.filter(in_client_scope(viewer=viewer))


def _refused(viewer: Viewer, clients: QuerySet[Client]) -> NoReturn:
    """Answer 404 for a record out of the viewer's reach, logging the attempt when the record
    exists (we do not confirm that it does)."""
    client = clients.first()
    if client is not None:
        log_denied_attempt(viewer=viewer, client=client)
    raise Http404


def client_get(*, viewer: Viewer, public_id: UUID) -> Client:
    client = (
        client_scope(viewer=viewer)
        .select_related("household", "created_by")
        .filter(public_id=public_id)
        .first()
    )
    if client is None:
        _refused(viewer, Client.objects.filter(public_id=public_id))
    return client


def case_get(*, viewer: Viewer, public_id: UUID) -> Case:
    case = (
        case_scope(viewer=viewer)
        .select_related("client", "primary_worker")
        .prefetch_related("topics", "co_workers")
        .filter(public_id=public_id)
        .first()
    )
    if case is None:
        _refused(viewer, Client.objects.filter(cases__public_id=public_id))
    return case


def consultation_get(*, viewer: Viewer, public_id: UUID) -> Consultation:
    consultation = (
        Consultation.objects.filter(case__in=case_scope(viewer=viewer), public_id=public_id)
        .select_related("case__client", "family_member", "partner_agency", "created_by")
        .prefetch_related(
            "staff",
            Prefetch(
                "revisions", queryset=ConsultationRevision.objects.select_related("edited_by")
            ),
        )
        .first()
    )
    if consultation is None:
        _refused(viewer, Client.objects.filter(cases__consultations__public_id=public_id))
    return consultation


def _words(text: str) -> list[str]:
    return [search_key(word) for word in text.split() if search_key(word)]


def client_search(
    *,
    viewer: Viewer,
    text: str = "",
    birth_date: date | None = None,
    cursor: str | None = None,
    with_open_case: bool = False,
) -> KeysetPage:
    """Clients of the viewer's agency by name or reading, insensitive to script, width and
    spaces (田中 太郎 = 田中太郎 = ﾀﾅｶ ﾀﾛｳ = たなか たろう), and by date of birth;
    ``with_open_case``: only those with an open case (what a 支援調整会議 may discuss)."""
    clients = client_scope(viewer=viewer)
    if with_open_case:
        open_case = Case.objects.filter(client=OuterRef("pk")).exclude(stage=Stage.CLOSED)
        clients = clients.filter(Exists(open_case))
    whole = search_key(text)
    if whole:
        # The whole query without spaces first (田中太郎 typed as 田中 太郎), else every word.
        by_words = Q()
        for word in _words(text):
            by_words &= Q(name_key__contains=word) | Q(kana_key__contains=word)
        clients = clients.filter(
            Q(name_key__contains=whole) | Q(kana_key__contains=whole) | by_words
        )
    if birth_date is not None:
        clients = clients.filter(birth_date=birth_date)
    clients = clients.prefetch_related(
        Prefetch("cases", queryset=Case.objects.exclude(stage=Stage.CLOSED), to_attr="open_cases")
    )
    return keyset_page(clients, ordering=["kana_key", "id"], cursor=cursor)


def client_possible_duplicates(
    *, viewer: Viewer, full_name: str, full_name_kana: str, birth_date: date | None
) -> list[Client]:
    """Clients of this agency who may be the same person: the same reading and birth date, the
    same name, or the same reading with a birth date a digit off (a typo)."""
    kana = search_key(full_name_kana)
    name = search_key(full_name)
    conditions = Q()
    if kana and birth_date:
        conditions |= Q(kana_key=kana, birth_date=birth_date)
        conditions |= Q(kana_key=kana, birth_date__year=birth_date.year)
    if name and birth_date:
        conditions |= Q(name_key=name, birth_date=birth_date)
    if kana and not birth_date:
        conditions |= Q(kana_key=kana)
    if name:
        conditions |= Q(name_key=name, birth_date__isnull=True)
    if not conditions:
        return []
    return list(client_scope(viewer=viewer).filter(conditions).order_by("id")[:10])


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


def caseload(
    *,
    viewer: Viewer,
    mine_only: bool = True,
    cursor: str | None = None,
    case_id: UUID | None = None,
    size: int = CASELOAD_PAGE_SIZE,
) -> KeysetPage:
    """One page of open cases (mine, or the whole agency's), next contact first and those
    without one last; overdue and due today flagged. ``case_id`` narrows it to that one case
    (the row a page refreshes after a consultation is logged)."""
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
    if case_id is not None:
        cases = cases.filter(public_id=case_id)
    page = keyset_page(cases, ordering=CASELOAD_ORDER, cursor=cursor, size=size)
    today = timezone.localdate()
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


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    members: list[HouseholdMember]
    open_cases: dict[int, Case]  # by client id, for members who are clients here
    flag_8050: bool


def _age(member: HouseholdMember) -> int:
    client = member.client
    if client is not None and client.birth_date is not None:
        return client.age
    return member.age or 0


def _in_withdrawal(member: HouseholdMember, open_cases: dict[int, Case]) -> bool:
    if member.client_id and member.client_id in open_cases:
        return open_cases[member.client_id].is_hikikomori
    return member.in_withdrawal


def household_view(*, viewer: Viewer, client: Client) -> HouseholdView | None:
    """The client's household: every member, their open cases here, and the 8050 flag,
    derived from ages, who lives together and who is in withdrawal (never set by hand)."""
    if client.household_id is None:
        return None
    household = client.household
    members = list(household.members.select_related("client").order_by("birth_year", "id"))
    member_client_ids = [m.client_id for m in members if m.client_id]
    open_cases = {
        case.client_id: case
        for case in case_scope(viewer=viewer)
        .filter(client_id__in=member_client_ids)
        .exclude(stage=Stage.CLOSED)
        .prefetch_related("topics")
    }
    together = [m for m in members if m.lives_together]
    self_member = next((m for m in members if m.relationship == Relationship.SELF), None)
    # The client's own age comes from their record (the member row may predate a birth date).
    older_parents = [
        m for m in together if m.relationship in PARENTS and _age(m) >= OLDER_PARENT_AGE
    ]
    client_is_older_parent = self_member is not None and _age(self_member) >= OLDER_PARENT_AGE
    withdrawn_children = [
        m
        for m in together
        if _age(m) >= MIDDLE_AGED_CHILD_AGE
        and _in_withdrawal(m, open_cases)
        and (
            # the client (or a sibling) living with their older parent …
            (m.relationship in {Relationship.SELF, Relationship.SIBLING} and older_parents)
            # … or the client is the older parent of a withdrawn child
            or (m.relationship == Relationship.CHILD and client_is_older_parent)
        )
    ]
    return HouseholdView(
        household=household,
        members=members,
        open_cases=open_cases,
        flag_8050=bool(withdrawn_children),
    )


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


def client_cases(*, viewer: Viewer, client: Client) -> list[Case]:
    """All cases of the client, newest first, with topics, workers and stage history."""
    return list(
        case_scope(viewer=viewer)
        .filter(client=client)
        .select_related("client", "primary_worker")
        .prefetch_related(
            "topics",
            "co_workers",
            Prefetch("stage_moves", queryset=StageMove.objects.select_related("moved_by")),
        )
        .order_by("-opened_on", "-id")
    )


def client_page_cases(*, viewer: Viewer, client: Client) -> list[Case]:
    """The client's cases for the top of the client page, newest first, in one query: each
    with its primary worker, ``topic_labels`` [(label, is_main)] (the main one first) and
    ``co_worker_names``. The stage history loads on demand (``client_cases``)."""
    cases = list(
        case_scope(viewer=viewer)
        .filter(client=client)
        .select_related("primary_worker")
        .annotate(
            topic_codes=ArraySubquery(
                CaseTopic.objects.filter(case=OuterRef("pk"))
                .order_by("-is_main", "id")
                .values("topic")
            ),
            main_topic=Subquery(
                CaseTopic.objects.filter(case=OuterRef("pk"), is_main=True).values("topic")[:1]
            ),
            co_worker_names=ArraySubquery(
                Case.co_workers.through.objects.filter(case=OuterRef("pk"))
                .order_by("id")
                .values("user__full_name")
            ),
        )
        .order_by("-opened_on", "-id")
    )
    labels = dict(Topic.choices)
    for case in cases:
        case.topic_labels = [
            (labels.get(code, code), code == case.main_topic) for code in case.topic_codes
        ]
    return cases


@dataclass(frozen=True)
class ClientFlags:
    """What must catch the eye on the client page while its sections are still closed."""

    urgent_visits: int  # urgent visits nobody has acknowledged
    active_emergencies: int  # emergency disclosures sharing the record right now


def client_page_flags(*, viewer: Viewer, client: Client) -> ClientFlags:
    """One query, through the scope (someone outside it gets nothing to flag)."""

    def count(queryset: QuerySet) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.filter(client=OuterRef("pk"))
                .order_by()
                .values("client")
                .annotate(n=Count("id"))
                .values("n")
            ),
            0,
        )

    now = timezone.now()
    row = (
        client_scope(viewer=viewer)
        .filter(pk=client.pk)
        .values_list(
            count(HomeVisit.objects.filter(is_urgent=True, acknowledged_at__isnull=True)),
            count(
                EmergencyDisclosure.objects.filter(
                    disclosed_at__lte=now, expires_at__gt=now
                ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now))
            ),
        )
        .first()
    )
    urgent, emergencies = row or (0, 0)
    return ClientFlags(urgent_visits=urgent, active_emergencies=emergencies)


# --- Plans ------------------------------------------------------------------


def _plans_with_details(plans: QuerySet[Plan]) -> QuerySet[Plan]:
    return plans.select_related("case__client", "approved_at", "created_by").prefetch_related(
        "goals",
        Prefetch("items", queryset=PlanItem.objects.select_related("agency", "goal")),
        Prefetch(
            "reviews",
            queryset=PlanReview.objects.select_related("reviewed_by").prefetch_related(
                Prefetch("goal_reviews", queryset=GoalReview.objects.select_related("goal"))
            ),
        ),
    )


def _with_counts(plans: QuerySet[Plan]) -> QuerySet[Plan]:
    """``goal_count`` and ``item_count`` in the plans' own query (the plan panel shows them)."""

    def count(model) -> Coalesce:
        return Coalesce(
            Subquery(
                model.objects.filter(plan=OuterRef("pk"))
                .order_by()
                .values("plan")
                .annotate(n=Count("id"))
                .values("n")
            ),
            0,
        )

    return plans.annotate(goal_count=count(PlanGoal), item_count=count(PlanItem))


def case_plan_summary(*, viewer: Viewer, case: Case) -> list[Plan]:
    """The newest two versions of the case's plan (the one being revised and the one still in
    force) with their goal and item counts, in one query, for the client page's plan panel."""
    plans = Plan.objects.filter(case=case, case__in=case_scope(viewer=viewer))
    return list(_with_counts(plans).select_related("approved_at").order_by("-version")[:2])


def case_plans(*, viewer: Viewer, case: Case) -> list[Plan]:
    """Every version of the case's plan, newest first, with goals, items and reviews."""
    plans = Plan.objects.filter(case=case, case__in=case_scope(viewer=viewer))
    return list(_with_counts(_plans_with_details(plans)).order_by("-version"))


def plan_get(*, viewer: Viewer, public_id: UUID) -> Plan:
    plan = (
        _plans_with_details(Plan.objects.filter(case__in=case_scope(viewer=viewer)))
        .filter(public_id=public_id)
        .first()
    )
    if plan is None:
        _refused(viewer, Client.objects.filter(cases__plans__public_id=public_id))
    return plan


@dataclass(frozen=True)
class PlanChanges:
    goals_added: list[str]
    goals_removed: list[str]
    items_added: list[str]
    items_removed: list[str]
    items_changed: list[str]
    client_words_changed: bool
    review_on_changed: bool

    @property
    def any(self) -> bool:
        return any(
            (
                self.goals_added,
                self.goals_removed,
                self.items_added,
                self.items_removed,
                self.items_changed,
                self.client_words_changed,
                self.review_on_changed,
            )
        )


def plan_changes(*, plan: Plan, previous: Plan) -> PlanChanges:
    """What a revision changed against the version it revises (both already fetched with
    their goals and items)."""
    old_goals = [g.text for g in previous.goals.all()]
    new_goals = [g.text for g in plan.goals.all()]

    def item_key(item: PlanItem) -> str:
        return item.what

    def item_shape(item: PlanItem) -> tuple:
        return (item.agency_id, item.program, item.frequency, item.responsible)

    old_items = {item_key(i): i for i in previous.items.all()}
    new_items = {item_key(i): i for i in plan.items.all()}
    return PlanChanges(
        goals_added=[g for g in new_goals if g not in old_goals],
        goals_removed=[g for g in old_goals if g not in new_goals],
        items_added=[k for k in new_items if k not in old_items],
        items_removed=[k for k in old_items if k not in new_items],
        items_changed=[
            k
            for k in new_items
            if k in old_items and item_shape(new_items[k]) != item_shape(old_items[k])
        ],
        client_words_changed=plan.client_words != previous.client_words,
        review_on_changed=plan.review_on != previous.review_on,
    )


# --- Meetings ------------------------------------------------------------------


def meeting_scope(*, viewer: Viewer) -> QuerySet[Meeting]:
    """Meetings the viewer's agency hosted (partner participants see them through the
    referral and consent work of later issues, not here)."""
    if not can_work_with_clients(viewer):
        return Meeting.objects.none()
    return Meeting.objects.filter(agency_id=viewer.membership.agency_id)


def meeting_list(*, viewer: Viewer) -> QuerySet[Meeting]:
    """The agency's meetings, newest first (a few a month: no paging needed)."""
    return (
        meeting_scope(viewer=viewer)
        .prefetch_related("participant_agencies")
        .annotate(case_count=Count("case_items"))
        .order_by("-held_on", "-id")
    )


def meeting_get(*, viewer: Viewer, public_id: UUID) -> Meeting:
    meeting = (
        meeting_scope(viewer=viewer)
        .prefetch_related(
            "participant_agencies",
            "participant_users",
            Prefetch(
                "case_items",
                queryset=MeetingCase.objects.select_related("case__client", "plan"),
            ),
        )
        .filter(public_id=public_id)
        .first()
    )
    if meeting is None:
        # A meeting is about the people on its agenda: the refusal is logged for each of them.
        for client in Client.objects.filter(
            cases__meeting_items__meeting__public_id=public_id
        ).distinct():
            log_denied_attempt(viewer=viewer, client=client)
        raise Http404
    return meeting


# --- Supporters ------------------------------------------------------------------


def supporter_assignments(*, viewer: Viewer) -> list[SupporterAssignment]:
    """ "My households": the supporter's active assignments, with their own last visit."""
    if not is_supporter(viewer):
        raise Http404
    return list(
        SupporterAssignment.objects.filter(supporter=viewer.membership, ended_on=None)
        .select_related("client")
        .prefetch_related(
            Prefetch(
                "client__home_visits",
                queryset=HomeVisit.objects.filter(supporter=viewer.user).order_by(
                    "-visited_on", "-id"
                ),
                to_attr="my_visits",
            )
        )
        .order_by("client__kana_key", "id")
    )


def supporter_assignment_get(*, viewer: Viewer, client_public_id: UUID) -> SupporterAssignment:
    """The supporter's way to a client: only through an active assignment, and only to the
    name, address, how to approach and their own visits."""
    if not is_supporter(viewer):
        _refused(viewer, Client.objects.filter(public_id=client_public_id))
    assignment = (
        SupporterAssignment.objects.filter(
            supporter=viewer.membership, ended_on=None, client__public_id=client_public_id
        )
        .select_related("client")
        .first()
    )
    if assignment is None:
        _refused(viewer, Client.objects.filter(public_id=client_public_id))
    return assignment


def supporter_own_visits(*, viewer: Viewer, client: Client) -> list[HomeVisit]:
    if not is_supporter(viewer):
        raise Http404
    return list(
        HomeVisit.objects.filter(client=client, supporter=viewer.user).order_by(
            "-visited_on", "-id"
        )
    )


def client_assignments(*, viewer: Viewer, client: Client) -> list[SupporterAssignment]:
    """The supporters dispatched to a client, for the caseworker's client page."""
    return list(
        SupporterAssignment.objects.filter(
            in_client_scope(viewer=viewer), client=client, ended_on=None
        ).select_related("supporter__user")
    )


def urgent_visits(*, viewer: Viewer) -> list[HomeVisit]:
    """Urgent visits nobody has acknowledged yet, for clients the viewer may see."""
    return list(
        # The agency's clients as a sub-select, hashed against the few rows of the partial
        # index visit_urgent_open: joined instead, PostgreSQL (which cannot know that only
        # urgent visits are ever acknowledged) expects thousands of open urgent visits and
        # scans every visit.
        HomeVisit.objects.filter(
            client__in=client_scope(viewer=viewer), is_urgent=True, acknowledged_at__isnull=True
        )
        .select_related("client", "supporter")
        .order_by("-visited_on", "-id")
    )


def urgent_visit_get(*, viewer: Viewer, public_id: UUID) -> HomeVisit:
    """An urgent visit to a client the viewer may see, acknowledged or not (a second click on
    "acknowledge" is no error). Anything else is a 404, logged when the visit exists."""
    visits = HomeVisit.objects.select_related("client").filter(public_id=public_id)
    visit = visits.filter(in_client_scope(viewer=viewer), is_urgent=True).first()
    if visit is None:
        found = visits.first()
        if found is not None:
            log_denied_attempt(viewer=viewer, client=found.client)
        raise Http404
    return visit


def visits_without_contact_in_a_row(visits: list[HomeVisit]) -> int:
    """How many of the latest visits (newest first) in a row reached nobody."""
    count = 0
    for visit in visits:
        if not visit.no_contact:
            break
        count += 1
    return count


# A supporter who reaches nobody three times running is a sign for the caseworker to try
# another way in (a letter, the family, a partner agency).
NO_CONTACT_NOTE_AFTER = 3


@dataclass(frozen=True)
class RecentVisits:
    """A client's latest home visits, newest first, iterable like the list it holds."""

    visits: list[HomeVisit]
    no_contact_in_a_row: int

    def __iter__(self):
        return iter(self.visits)

    def __len__(self) -> int:
        return len(self.visits)

    @property
    def no_contact_note(self) -> bool:
        return self.no_contact_in_a_row >= NO_CONTACT_NOTE_AFTER


def client_visits(*, viewer: Viewer, client: Client, limit: int = 20) -> RecentVisits:
    """The client's latest home visits by every supporter, for the caseworker's client page
    (one query, filtered through the scope: a supporter or another agency gets nothing)."""
    visits = list(
        HomeVisit.objects.filter(in_client_scope(viewer=viewer), client=client)
        .select_related("supporter", "acknowledged_by")
        .order_by("-visited_on", "-id")[:limit]
    )
    return RecentVisits(visits=visits, no_contact_in_a_row=visits_without_contact_in_a_row(visits))


# --- A partner's live view -----------------------------------------------------------------------


@dataclass(frozen=True)
class SharedSection:
    section: RecordSection
    decision: Decision


@dataclass(frozen=True)
class SharedRecord:
    """Another agency's record of a person as this viewer may see it now: every category is
    there, either with its data and the basis that lets it through, or as a placeholder."""

    client: Client
    access: RecordAccess
    sections: list[SharedSection]

    @property
    def person_name(self) -> str:
        return self.client.full_name if self.access.allows(DataCategory.BASIC) else ""


def shared_record_get(*, viewer: Viewer, public_id: UUID) -> SharedRecord:
    """The live view of a partner's record. The gate decides and logs the look (or the refused
    attempt); an agency with no link and no basis gets a 404."""
    client = (
        Client.objects.select_related("agency", "household").filter(public_id=public_id).first()
    )
    if client is None:
        raise Http404
    access = open_record(viewer=viewer, client=client)
    if not (access.linked or access.any):
        raise Http404
    shown = set(access.shown)
    data = record_data(client, list(shown))
    return SharedRecord(
        client=client,
        access=access,
        sections=[
            SharedSection(section, access.decision(section.category))
            for section in record_sections(data, DataCategory.values, shown)
        ],
    )


# --- Agencies a form may name (the agency picker's purposes, registered in CasesConfig) -----


def partner_agencies(*, agency_id: int) -> QuerySet[Agency]:
    """Agencies active today other than ``agency_id``: the other party of a consultation, and
    who may join the agency's 支援調整会議."""
    return Agency.objects.active().exclude(pk=agency_id)


def plan_agencies(*, agency_id: int, current_id: int | None = None) -> QuerySet[Agency]:
    """Who may carry a support item: the agency itself and partners active today (and the one
    already chosen, even if it has closed since: editing must not drop it silently)."""
    ids = Q(pk__in=Agency.objects.active().values("pk")) | Q(pk=agency_id)
    if current_id is not None:
        ids |= Q(pk=current_id)
    return Agency.objects.filter(ids)


# A case, plan or meeting the viewer may write is always of the viewer's own agency (a case's
# agency is its client's, and only the holder writes): the purposes need no object.


def consultation_partners_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "consultation-partner" purpose (the quick entry and the correction)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return partner_agencies(agency_id=viewer.membership.agency_id)


def plan_agencies_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "plan-agency" purpose (a plan's support item)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return plan_agencies(agency_id=viewer.membership.agency_id)


def meeting_agencies_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "meeting-participant" purpose (the 支援調整会議 record)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return partner_agencies(agency_id=viewer.membership.agency_id)
