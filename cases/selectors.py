"""Every read of clients, cases and consultation records goes through here.

``client_scope`` is the single place that decides which client records a viewer reaches; every
other selector starts from it (never from ``Client.objects.all()``). Another agency's client is
a 404, not a 403: we do not confirm that a record exists.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.permissions import Viewer
from core.japanese import search_key
from core.pagination import KeysetPage, keyset_page

from .models import (
    PARENTS,
    Case,
    CaseTopic,
    Client,
    Consultation,
    ConsultationRevision,
    Household,
    HouseholdMember,
    Relationship,
    Stage,
    StageMove,
)
from .permissions import can_work_with_clients, holds_client

# The "8050" pattern (an older parent living with a middle-aged child in withdrawal), as the
# notices describe it; the thresholds are the looser "7040" so it is seen early.
OLDER_PARENT_AGE = 70
MIDDLE_AGED_CHILD_AGE = 40


def client_scope(*, viewer: Viewer) -> QuerySet[Client]:
    """The client records this viewer may open. The one rule of who sees which client."""
    if not can_work_with_clients(viewer):
        return Client.objects.none()
    return Client.objects.filter(agency_id=viewer.membership.agency_id)


def case_scope(*, viewer: Viewer) -> QuerySet[Case]:
    return Case.objects.filter(client__in=client_scope(viewer=viewer))


def client_get(*, viewer: Viewer, public_id: UUID) -> Client:
    client = (
        client_scope(viewer=viewer)
        .select_related("household", "created_by")
        .filter(public_id=public_id)
        .first()
    )
    if client is None:
        raise Http404
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
        raise Http404
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
        raise Http404
    return consultation


def _words(text: str) -> list[str]:
    return [search_key(word) for word in text.split() if search_key(word)]


def client_search(
    *, viewer: Viewer, text: str = "", birth_date: date | None = None, cursor: str | None = None
) -> KeysetPage:
    """Clients of the viewer's agency by name or reading, insensitive to script, width and
    spaces (田中 太郎 = 田中太郎 = ﾀﾅｶ ﾀﾛｳ = たなか たろう), and by date of birth."""
    clients = client_scope(viewer=viewer)
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


@dataclass(frozen=True)
class CaseloadRow:
    case: Case
    overdue: bool
    due_today: bool


def caseload(*, viewer: Viewer, mine_only: bool = True) -> list[CaseloadRow]:
    """Open cases (mine, or the whole agency's), next contact first; overdue ones flagged."""
    cases = (
        case_scope(viewer=viewer)
        .exclude(stage=Stage.CLOSED)
        .select_related("client", "primary_worker")
        .prefetch_related(
            Prefetch("topics", queryset=CaseTopic.objects.filter(is_main=True), to_attr="main")
        )
    )
    if mine_only:
        cases = cases.filter(Q(primary_worker=viewer.user) | Q(co_workers=viewer.user)).distinct()
    today = timezone.localdate()
    rows = [
        CaseloadRow(
            case=case,
            overdue=bool(case.next_contact_on and case.next_contact_on < today),
            due_today=case.next_contact_on == today,
        )
        for case in cases.order_by("next_contact_on", "client__kana_key", "id")
    ]
    # Cases without a planned contact go last, not first (NULLs sort first on some databases).
    return [r for r in rows if r.case.next_contact_on] + [
        r for r in rows if not r.case.next_contact_on
    ]


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
    kind: str  # "consultation", "stage", "first_contact", "case_opened"
    day: date
    at: object  # for ordering within a day
    obj: object


TIMELINE_KIND_CHOICES = [
    ("consultation", _("Consultations")),
    ("stage", _("Stage moves")),
    ("first_contact", _("First contact")),
]
TIMELINE_KINDS = tuple(kind for kind, _label in TIMELINE_KIND_CHOICES)


def client_timeline(
    *, viewer: Viewer, client: Client, kinds: tuple[str, ...] = TIMELINE_KINDS, limit: int = 100
) -> list[TimelineEntry]:
    """One timeline of everything that happened with the client, newest first.

    Each source is one query with its own limit, merged here; later issues add plans, visits,
    meetings, referrals and consents as further sources.
    """
    # Every source is filtered through the scope in the same query: a client object that did
    # not come from client_get still shows nothing the viewer may not see.
    in_scope = Q(case__client=client, case__client__in=client_scope(viewer=viewer))
    entries: list[TimelineEntry] = []
    if "consultation" in kinds:
        consultations = (
            Consultation.objects.filter(in_scope)
            .select_related("family_member", "partner_agency")
            .prefetch_related("staff")
            .annotate(revision_count=Count("revisions"))
            .order_by("-occurred_on", "-id")
        )
        entries += [
            TimelineEntry("consultation", c.occurred_on, c.created_at, c)
            for c in consultations[:limit]
        ]
    if "stage" in kinds:
        moves = StageMove.objects.filter(in_scope).select_related("moved_by")
        entries += [
            TimelineEntry("stage", m.moved_on, m.moved_at, m)
            for m in moves.order_by("-moved_on", "-id")[:limit]
        ]
    if "first_contact" in kinds and client.first_direct_contact_on and holds_client(viewer, client):
        entries.append(TimelineEntry("first_contact", client.first_direct_contact_on, None, client))
    entries.sort(key=lambda e: (e.day, e.at.timestamp() if e.at else 0), reverse=True)
    return entries[:limit]


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
