"""Reads of 支援会議 for a viewer. A council, a session or an agenda item outside the viewer's
reach is a 404 (we do not confirm it exists).

Client data on these pages goes through the consent gate only: ``session_agenda`` asks
``consent.gate.open`` (context ``COUNCIL_AGENDA``) for every person on the agenda, which decides
what the viewer may see *now* and writes the access log (one row per person looked at, fail
closed).
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from agencies.models import Agency
from agencies.permissions import Viewer, is_system_admin
from audit.access_log import log_refused_attempt
from cases.permissions import can_work_with_clients, holds_client
from consent import gate
from consent.gate import NOT_CONSENTED, Basis, RecordAccess
from core.records import DataCategory

from .models import AgendaItem, CouncilMember, CouncilSession, SupportCouncil
from .permissions import (
    can_open_council,
    can_read_minutes,
    can_run_council,
    can_set_up_councils,
)
from .sharing import shared_items


def current_member_ids(*, council: SupportCouncil, on: date | None = None) -> frozenset[int]:
    """The agencies that are members of ``council`` on the day (one query)."""
    day = on or timezone.localdate()
    return frozenset(
        CouncilMember.objects.current_on(day)
        .filter(council=council)
        .values_list("agency_id", flat=True)
    )


def council_list(*, viewer: Viewer) -> QuerySet[SupportCouncil]:
    """The councils the viewer's agency is a member of today (the secretariat always is);
    every council for a system admin; none for anyone else."""
    councils = SupportCouncil.objects.select_related("municipality", "chair_agency").annotate(
        session_count=Count("sessions", distinct=True)
    )
    if is_system_admin(viewer.user):
        return councils.order_by("ended_on", "municipality__code", "name")
    if not can_work_with_clients(viewer):
        return SupportCouncil.objects.none()
    member_today = CouncilMember.objects.current_on().filter(
        council=OuterRef("pk"),
        agency_id=viewer.membership.agency_id,
    )
    return councils.filter(Exists(member_today)).order_by("ended_on", "municipality__code", "name")


def council_get(*, viewer: Viewer, public_id: UUID) -> tuple[SupportCouncil, frozenset[int]]:
    """The council and its members today, or a 404 for anyone who may not open it."""
    council = (
        SupportCouncil.objects.select_related(
            "municipality", "municipality__prefecture", "chair_agency"
        )
        .filter(public_id=public_id)
        .first()
    )
    if council is None:
        raise Http404
    members = current_member_ids(council=council)
    if not can_open_council(viewer, council, members):
        raise Http404
    return council, members


def council_members(*, council: SupportCouncil) -> list[CouncilMember]:
    """Members past and present, present first."""
    return list(
        council.members.select_related("agency").order_by(
            "-left_on", "agency__name_kana", "joined_on"
        )
    )


def council_sessions(*, council: SupportCouncil) -> QuerySet[CouncilSession]:
    return council.sessions.annotate(
        item_count=Count("agenda", filter=Q(agenda__withdrawn_at__isnull=True))
    ).order_by("-held_on", "-id")


def session_get(*, viewer: Viewer, public_id: UUID) -> tuple[CouncilSession, frozenset[int]]:
    """A session of a council the viewer may open, with the council's members today."""
    session = (
        CouncilSession.objects.select_related(
            "council", "council__municipality", "council__chair_agency"
        )
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise Http404
    members = current_member_ids(council=session.council)
    if not can_open_council(viewer, session.council, members):
        raise Http404
    return session, members


def agenda_item_get(*, viewer: Viewer, public_id: UUID) -> AgendaItem:
    item = (
        AgendaItem.objects.select_related(
            "client", "session", "session__council", "session__council__chair_agency"
        )
        .filter(public_id=public_id)
        .first()
    )
    if item is None:
        raise Http404
    council = item.session.council
    if not (
        holds_client(viewer, item.client)
        or can_open_council(viewer, council, current_member_ids(council=council))
    ):
        log_refused_attempt(viewer=viewer, client=item.client)
        raise Http404
    return item


@dataclass(frozen=True)
class SharedCategory:
    """One category the agenda item shares, as this viewer sees it on the council page."""

    category: str
    label: str
    visible: bool  # shown here now: the viewer holds the record or this item shares it now
    emergency: bool  # shown, and the gate's decision for it is an emergency disclosure


@dataclass(frozen=True)
class AgendaRow:
    """One person on a session's agenda as this viewer may see it now.

    ``access`` is the gate's answer (None when the item was taken off and the viewer does not
    hold the record: nothing was looked at). The page shows what this very item shares with
    the viewer's agency now (basis COUNCIL), not what another basis would show elsewhere: the
    secretariat chose the categories for this meeting, and an emergency disclosure or a consent
    is for its own purpose. ``name`` is the person's name only when 基本情報 is shown so, else
    the "no consent" placeholder; ``reason`` only when the viewer holds the record or this item
    shares the person now. Wherever the gate's decision for a shown category is an emergency
    disclosure, the row says so (``emergency``).
    """

    item: AgendaItem
    access: RecordAccess | None
    name: str
    reason: str | None
    shared: list[SharedCategory]
    name_emergency: bool = False

    @property
    def withdrawn(self) -> bool:
        return self.item.withdrawn_at is not None

    @property
    def can_open_record(self) -> bool:
        """A link to the live shared record makes sense only when something would show."""
        return self.access is not None and self.access.any and not self.access.is_holder

    @property
    def record_emergency(self) -> bool:
        """The live record the row links to shows something under an emergency disclosure."""
        return self.can_open_record and bool(self.access.emergency)

    @property
    def emergency(self) -> bool:
        return self.name_emergency or any(c.emergency for c in self.shared)


def _shares_this_item(viewer: Viewer, item: AgendaItem, access: RecordAccess | None) -> bool:
    """Does this very item share the person with the viewer's agency now? What the item
    shares, and the reason the holder gave the council, are shown to members only then."""
    if access is None or item.withdrawn_at is not None or not access.any:
        return False
    if any(
        decision.basis == Basis.COUNCIL and getattr(decision.source, "pk", None) == item.pk
        for decision in access.decisions.values()
    ):
        return True
    # Another basis answered first (a consent, an emergency disclosure, or another session
    # sharing the same person): ask the council rule itself (one query, only in that case).
    return (
        shared_items(client=item.client, agency_id=viewer.membership.agency_id)
        .filter(pk=item.pk)
        .exists()
    )


def _row(*, viewer: Viewer, item: AgendaItem, page: str, path: str) -> AgendaRow:
    labels = dict(DataCategory.choices)
    access: RecordAccess | None = None
    if item.withdrawn_at is None or holds_client(viewer, item.client):
        access = gate.open(
            viewer, item.client, context=gate.Context.COUNCIL_AGENDA, page=page, path=path
        )
    holder = access is not None and access.is_holder
    through_item = holder or _shares_this_item(viewer, item, access)

    def visible(category: str) -> bool:
        return through_item and access.allows(category) and (holder or category in item.categories)

    def emergency(category: str) -> bool:
        return visible(category) and access.decision(category).basis == Basis.EMERGENCY

    return AgendaRow(
        item=item,
        access=access,
        name=item.client.full_name if visible(DataCategory.BASIC) else str(NOT_CONSENTED),
        reason=item.reason if through_item else None,
        shared=[
            SharedCategory(c, labels[c], visible(c), emergency(c))
            for c in DataCategory.values
            if c in item.categories
        ],
        name_emergency=emergency(DataCategory.BASIC),
    )


def session_agenda(
    *, viewer: Viewer, session: CouncilSession, page: str = "", path: str = ""
) -> list[AgendaRow]:
    """The session's agenda, every person shown only through the gate (and each look logged).

    Costs one query for the items, then the gate's own queries for each person on the agenda
    (see tests.test_councils.TestQueryCount): the gate decides one record at a time."""
    items = session.agenda.select_related("client", "client__agency", "added_by").order_by(
        "withdrawn_at", "added_at", "id"
    )
    return [_row(viewer=viewer, item=item, page=page, path=path) for item in items]


def minutes_for(
    *, viewer: Viewer, session: CouncilSession, member_ids: frozenset[int]
) -> str | None:
    """The session's minutes for this viewer, or None when they may not read them
    (``can_read_minutes``): the page then says only whether minutes were written."""
    if not can_read_minutes(viewer, session, member_ids):
        return None
    return session.minutes


def agenda_items_for_client(*, viewer: Viewer, client) -> list[AgendaItem]:
    """For a client page. The holding agency's staff: every agenda the person was put on,
    taken-off items included, newest first. Staff of another agency: only the items through
    which a 支援会議 shares the person with their agency today (the gate's own rule). Anyone
    else: nothing."""
    if holds_client(viewer, client):
        return list(
            AgendaItem.objects.filter(client=client)
            .select_related("session", "session__council", "added_by")
            .order_by("-session__held_on", "-id")
        )
    if not can_work_with_clients(viewer):
        return []
    return list(shared_items(client=client, agency_id=viewer.membership.agency_id))


# --- Agencies the council forms may name (the agency picker's purposes, see CouncilsConfig) --


def chair_agencies() -> QuerySet[Agency]:
    """Who may run a new council: any agency active today."""
    return Agency.objects.active()


def member_candidates(*, member_ids: frozenset[int]) -> QuerySet[Agency]:
    """Who may join a council: agencies active today that are not members already."""
    return Agency.objects.active().exclude(pk__in=member_ids)


def council_chairs_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "council-chair" purpose (setting up a council: system admins)."""
    if not can_set_up_councils(viewer):
        raise Http404
    return chair_agencies()


def council_members_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "council-member" purpose: ``council`` is the council's public id; those who
    may not run it get a 404, as on its "add a member" page."""
    try:
        public_id = UUID(params.get("council", ""))
    except ValueError:
        raise Http404 from None
    council, members = council_get(viewer=viewer, public_id=public_id)
    if not can_run_council(viewer, council):
        raise Http404
    return member_candidates(member_ids=members)
