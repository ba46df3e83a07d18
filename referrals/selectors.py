"""Reads of referrals (つなぎ) and of the records the law asks for (29条 provision records,
30条 confirmation records).

``referral_scope`` is the one rule of who sees which referral: the caseworkers and supervisors
of the sending agency (every referral they made, drafts included) and of the receiving agency
(once it was sent to them, and never an introduction: 紹介のみ sends nothing about the person).
Anyone else gets a 404. What of the person the receiving side sees is decided by the consent
gate (``referral_snapshot``), not by the template.

The supervisors' queues show no client data from another agency's record: a received referral
shows the receiving agency's own record once accepted, and nothing about the person before (the
detail page, behind the consent gate, does). The outgoing queue shows the sender's own client.

Age and "overdue" are the receiving agency's in both queues: it is the receiver who must answer,
within its own number of business days (``Agency.referral_alert_business_days``) counted on its
own calendar (``Agency.closed_year_end``), as the reminder to its supervisors counts them. In the
incoming queue that is the viewer's agency (one range bound on ``sent_at``); in the outgoing one
each row's receiver: the flag is computed per row from the receiving agency's fields joined into
the page query, and the filters keep one constant range bound on ``sent_at`` (the loosest of the
receivers') with the exact per-receiver bounds beside it.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer, can_review_queues
from cases.models import (
    Client,
)
from cases.permissions import can_work_with_clients
from cases.record_data import RecordSection, record_sections
from cases.selectors import in_client_scope
from consent.gate import (
    RecordAccess,
    log_access,
    log_denied_attempt,
    may_share,
    open_record,
    open_referral_copy,
    record_access,
)
from consent.models import DataCategory
from core.business_days import add_business_days, business_days_between
from core.japanese import search_key
from core.pagination import DEFAULT_PAGE_SIZE, KeysetPage, keyset_page

from .models import (
    NEEDS_CONSENT,
    RECEIVED,
    ConfirmationRecord,
    JointRole,
    ProvisionRecord,
    Referral,
    ReferralMessage,
    ReferralType,
    Status,
    SupportPolicy,
)
from .permissions import Side, can_change_joint_support, can_see_joint_support, side_of


def referral_scope(*, viewer: Viewer) -> QuerySet[Referral]:
    """The referrals this viewer may open."""
    if not can_work_with_clients(viewer):
        return Referral.objects.none()
    agency_id = viewer.membership.agency_id
    return Referral.objects.filter(
        # The sender's referrals are about its own clients: the client scope says so.
        (Q(from_agency_id=agency_id) & in_client_scope(viewer=viewer))
        # The receiver sees nothing of a draft, nor an introduction (nothing was sent).
        | (Q(to_agency_id=agency_id, sent_at__isnull=False) & ~Q(type=ReferralType.INTRODUCTION))
    )


def referral_get(*, viewer: Viewer, public_id: UUID) -> Referral:
    """One referral with everything its page shows, in one query (and one for the thread)."""
    referral = (
        referral_scope(viewer=viewer)
        .select_related(
            "client",
            "from_agency",
            "to_agency",
            "from_worker",
            "assignee",
            "answered_by",
            "receiving_client",
            "provision__provided_by",
            "confirmation__confirmed_by",
        )
        .prefetch_related(
            Prefetch(
                "messages", queryset=ReferralMessage.objects.select_related("author", "agency")
            )
        )
        .filter(public_id=public_id)
        .first()
    )
    if referral is None:
        refused = Referral.objects.filter(public_id=public_id).select_related("client").first()
        if refused is not None:
            log_denied_attempt(viewer=viewer, client=refused.client)
        raise Http404
    return referral


def referral_list_for_client(*, viewer: Viewer, client: Client) -> list[Referral]:
    """The client's referrals for the client page, newest first: the ones this agency made
    for the client, and the one it received that became this record."""
    return list(
        referral_scope(viewer=viewer)
        .filter(
            (Q(client=client) & in_client_scope(viewer=viewer))
            | (Q(receiving_client=client) & in_client_scope(viewer=viewer, via="receiving_client"))
        )
        .select_related("from_agency", "to_agency", "client", "receiving_client")
        .order_by("-created_at", "-id")
    )


def referral_recipients(*, viewer: Viewer) -> QuerySet[Agency]:
    """Agencies that receive referrals through Tsunagu today, other than the viewer's own."""
    if not can_work_with_clients(viewer):
        return Agency.objects.none()
    return (
        Agency.objects.active()
        .filter(receives_referrals=True)
        .exclude(pk=viewer.membership.agency_id)
        .order_by("name_kana", "name", "id")
    )


def referral_recipients_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The agency picker's "referral-recipient" purpose (the referral form)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return referral_recipients(viewer=viewer)


def receiving_staff(*, viewer: Viewer) -> QuerySet[Membership]:
    """Who at the viewer's agency may be given an accepted referral."""
    if not can_work_with_clients(viewer):
        return Membership.objects.none()
    return (
        Membership.objects.filter(
            agency_id=viewer.membership.agency_id,
            is_active=True,
            role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .select_related("user")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )


# --- What crossed ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralCopy:
    """What of a referral the viewer sees about the person: the sent categories (withheld ones
    as placeholders) and the message thread, whose other-agency messages count as the
    person's information too."""

    sections: list[RecordSection]
    thread: list[ReferralMessage]
    thread_withheld: int = 0  # the other agency's messages not shown
    person_name: str = ""  # the name as sent, if the viewer may see it
    # The reason, the person's wishes and the covering message are about the person too: the
    # receiver reads them only while it may see something of what was sent.
    texts_visible: bool = False


def posted_after_acceptance(referral: Referral, message: ReferralMessage) -> bool:
    """A message from the sending agency written after the referral was accepted: new
    information about the person, not part of what crossed at sending."""
    return (
        message.agency_id == referral.from_agency_id
        and referral.status in RECEIVED
        and referral.answered_at is not None
        and message.created_at > referral.answered_at
    )


def _live_thread_access(*, viewer: Viewer, referral: Referral) -> bool:
    """May the receiving side read what the sender wrote after acceptance, right now?

    Only what crossed at sending became the receiver's own record (``RECEIVED``); a later
    message is the sender's record reaching the partner today, so it follows the live basis —
    the person's consent (or another basis of the gate) covering 相談内容・支援経過 — exactly
    as the partner's live view does. A look it allows is written to the access log on that
    basis (the page's own entry says only "provided")."""
    live = record_access(viewer=viewer, client=referral.client)
    decision = live.decision(DataCategory.CONSULTATION)
    if decision.allowed:
        log_access(
            viewer=viewer,
            client=referral.client,
            access=RecordAccess(
                referral.client, {DataCategory.CONSULTATION: decision}, linked=live.linked
            ),
        )
    return decision.allowed


def referral_copy(*, viewer: Viewer, referral: Referral) -> ReferralCopy:
    """The referral's page content about the person, as the gate lets this viewer see it now
    (it logs the receiving side's look).

    The receiver reads the sender's messages from before acceptance only while it may see
    something of what was sent (a withdrawal before the answer hides them too), and those the
    sender wrote after acceptance only while the live basis covers 相談内容・支援経過 (a
    withdrawal after acceptance hides them at once; what crossed stays). Its own agency's
    messages it always reads: it wrote them."""
    access = open_referral_copy(viewer=viewer, referral=referral)
    sections = []
    if referral.type in NEEDS_CONSENT and referral.sent_at is not None:
        sections = record_sections(referral.snapshot, referral.categories, set(access.shown))
    own_agency = viewer.membership.agency_id if viewer.membership else None
    messages = list(referral.messages.all())
    receiver = not access.is_holder and side_of(viewer, referral) == Side.RECEIVER
    # Asked only when there is such a message: a thread without one costs no query more.
    live = (
        receiver
        and any(posted_after_acceptance(referral, m) for m in messages)
        and _live_thread_access(viewer=viewer, referral=referral)
    )
    thread, withheld = [], 0
    for message in messages:
        # The sender holds the record and reads everything. The receiving agency's own
        # messages to the sender stay as they are: they are about the receiver's own record
        # (it holds its copy), written by it for the sender to read, and the sender already
        # holds the person's record they came from — what the receiver chooses to pass back
        # is its own decision as a holder, not something this gate can see.
        if access.is_holder or message.agency_id == own_agency:
            thread.append(message)
        elif posted_after_acceptance(referral, message):
            if live:
                thread.append(message)
            else:
                withheld += 1
        elif access.any:
            thread.append(message)
        else:
            withheld += 1
    name = ""
    if access.allows(DataCategory.BASIC) and referral.sent_at is not None:
        name = (referral.snapshot.get(DataCategory.BASIC) or {}).get("full_name", "")
    return ReferralCopy(
        sections=sections,
        thread=thread,
        thread_withheld=withheld,
        person_name=name,
        texts_visible=access.any or access.is_holder,
    )


# --- The records the law asks for (29条 / 30条) ------------------------------------------------


def _name_filter(text: str) -> Q:
    key = search_key(text)
    if not key:
        return Q()
    return Q(client__name_key__contains=key) | Q(client__kana_key__contains=key)


# A provision record is the provider's own record (29条), written by referral_send about the
# provider's own client; a confirmation record is the recipient's (30条), about the client record
# it made at acceptance. The agency that keeps the record is the whole rule: a further join to
# the client's agency changes no row, and PostgreSQL, unable to know that, then sorts every
# record of the agency instead of reading the first page from provision_by_agency.


def _provisions(*, viewer: Viewer) -> QuerySet[ProvisionRecord]:
    if not can_work_with_clients(viewer):
        return ProvisionRecord.objects.none()
    return ProvisionRecord.objects.filter(provider_id=viewer.membership.agency_id).select_related(
        "client", "recipient", "provided_by", "referral"
    )


def _confirmations(*, viewer: Viewer) -> QuerySet[ConfirmationRecord]:
    if not can_work_with_clients(viewer):
        return ConfirmationRecord.objects.none()
    return ConfirmationRecord.objects.filter(
        recipient_id=viewer.membership.agency_id
    ).select_related("client", "provider", "confirmed_by", "referral")


PROVISION_ORDER = ["-provided_at", "-id"]
CONFIRMATION_ORDER = ["-received_at", "-id"]


def provision_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage:
    """This agency's provision records (第三者提供記録), newest first, by client name."""
    records = _provisions(viewer=viewer).filter(_name_filter(name))
    return keyset_page(records, ordering=PROVISION_ORDER, cursor=cursor, size=size)


def confirmation_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage:
    """This agency's confirmation records (確認記録), newest first, by client name."""
    records = _confirmations(viewer=viewer).filter(_name_filter(name))
    return keyset_page(records, ordering=CONFIRMATION_ORDER, cursor=cursor, size=size)


@dataclass(frozen=True)
class ClientRecords:
    provisions: list[ProvisionRecord]
    confirmations: list[ConfirmationRecord]


def records_for_client(*, viewer: Viewer, client: Client) -> ClientRecords:
    """Every provision and confirmation record about one client: what this agency passed on
    and where what it received came from (to answer the person's disclosure request)."""
    return ClientRecords(
        provisions=list(
            _provisions(viewer=viewer).filter(client=client).order_by(*PROVISION_ORDER)
        ),
        confirmations=list(
            _confirmations(viewer=viewer).filter(client=client).order_by(*CONFIRMATION_ORDER)
        ),
    )


def records_for_export(
    *, viewer: Viewer, name: str = ""
) -> Iterator[ProvisionRecord | ConfirmationRecord]:
    """All of this agency's records for the CSV export: provisions, then confirmations, each
    newest first, read in chunks."""
    yield from (
        _provisions(viewer=viewer)
        .filter(_name_filter(name))
        .order_by(*PROVISION_ORDER)
        .iterator(chunk_size=500)
    )
    yield from (
        _confirmations(viewer=viewer)
        .filter(_name_filter(name))
        .order_by(*CONFIRMATION_ORDER)
        .iterator(chunk_size=500)
    )


def referrals_awaiting_me(*, viewer: Viewer, limit: int = 50) -> list[Referral]:
    """Referrals received by the viewer's agency and assigned to the viewer that still need
    them: to accept or decline, or to meet the person (shown on the caseload dashboard),
    oldest first, at most ``limit``."""
    if viewer.membership is None:
        return []
    return list(
        Referral.objects.filter(
            to_agency_id=viewer.membership.agency_id,
            assignee=viewer.user,
            status__in=[Status.SENT, Status.ACCEPTED],
        )
        .select_related("from_agency")
        .order_by("sent_at", "id")[:limit]
    )


def referrals_linking(*, viewer: Viewer, client: Client) -> list[Referral]:
    """The accepted つなぎ / 共同支援 that join another agency's record of a person to the
    viewer's agency (for the live view's way back to the referral and to one's own record)."""
    if not can_work_with_clients(viewer):
        return []
    agency_id = viewer.membership.agency_id
    return list(
        Referral.objects.filter(type__in=NEEDS_CONSENT, status__in=RECEIVED)
        .filter(
            Q(client=client, to_agency_id=agency_id)
            | Q(receiving_client=client, from_agency_id=agency_id)
        )
        .select_related("client", "receiving_client")
        .order_by("-answered_at", "-id")
    )


# --- The supervisors' queues and the joint support page ------------------------------------------

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
        return can_review_queues(viewer.membership)
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


def _status_counts(referrals: QuerySet[Referral]) -> list[StatusCount]:
    """Every tab's count in one query, each stopping at COUNT_CAP + 1 rows.

    One capped sub-select per status, glued with UNION ALL: each walks at most COUNT_CAP + 1
    entries of the (agency, status, sent_at, id) index, however long the agency's history.
    """
    parts, params = [], []
    for status in QUEUE_STATUSES:
        sql, part_params = (
            referrals.filter(status=status)
            .order_by()
            .values("id")[: COUNT_CAP + 1]
            .query.sql_with_params()
        )
        parts.append(f"SELECT CAST(%s AS VARCHAR(20)), (SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608
        params.extend([status, *part_params])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = dict(cursor.fetchall())
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
    counts = _status_counts(base)
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
    if not can_review_queues(viewer.membership):
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


# The joint support page ----------------------------------------------------------------------

# What the joint support page says about the person is their support plan: the shared policy
# (what both agencies aim for with the person, and how) and the roles the sending agency took
# on (what support it gives, by whom, until when) are part of the plan in the sender's record.
# So the receiving side sees them only while the gate allows 支援計画 (DataCategory.PLAN) of
# the sender's record, and joint support is changed only while the person's consent to the
# partner covers it. The receiver's own roles are its own record and always shown to it.
JOINT_CATEGORY = DataCategory.PLAN


@dataclass(frozen=True)
class JointRoles:
    agency: Agency
    roles: list[JointRole]
    # False: the other agency's roles, which the gate does not let this viewer see today
    # (shown as 同意なし; the roles are not even handed to the template).
    visible: bool = True


@dataclass
class JointSupport:
    referral: Referral
    side: str
    # The viewer's own record of the person: the sender's client, or the record the recipient
    # made on accepting. Never the other agency's.
    own_client: object
    roles_by_agency: list[JointRoles]
    policies: list[SupportPolicy]  # oldest first: the history; empty when not visible
    # What the gate lets the viewer see of the sender's record now (the sender: all of it).
    access: RecordAccess
    # The person's consent to the partner covers 支援計画: what changing joint support needs.
    consent_in_force: bool
    may_change: bool

    @property
    def policy_visible(self) -> bool:
        return self.access.allows(JOINT_CATEGORY)

    @property
    def current_policy(self) -> SupportPolicy | None:
        return self.policies[-1] if self.policies else None

    @property
    def agreed_policy(self) -> SupportPolicy | None:
        """The latest version both sides agreed to (a newer proposal may be pending)."""
        for policy in reversed(self.policies):
            if policy.agreed_by_both:
                return policy
        return None

    @property
    def waiting_for_us(self) -> bool:
        policy = self.current_policy
        if policy is None:
            return False
        mine = policy.agreed_by_sender if self.side == Side.SENDER else policy.agreed_by_recipient
        return not mine

    def roles_of(self, agency_id: int) -> list[JointRole]:
        """The roles of one agency as this viewer may see them (none when withheld)."""
        for group in self.roles_by_agency:
            if group.agency.pk == agency_id:
                return group.roles
        return []


def joint_support_get(*, viewer: Viewer, public_id: UUID) -> JointSupport:
    """The joint support page, as the consent gate lets this viewer see it now.

    The sending agency holds the record and sees everything. The receiving agency's look goes
    through ``open_record`` (which also writes it to the access log): the policy and the
    sender's roles only while the gate allows 支援計画, else a 同意なし placeholder. Nothing is
    cached: a withdrawal takes effect on the next request."""
    referral = (
        Referral.objects.select_related("from_agency", "to_agency", "client", "receiving_client")
        .filter(public_id=public_id, type=ReferralType.JOINT)
        .first()
    )
    if referral is None:
        raise Http404
    if not can_see_joint_support(viewer, referral):
        log_denied_attempt(viewer=viewer, client=referral.client)
        raise Http404
    side = side_of(viewer, referral)
    access = open_record(viewer=viewer, client=referral.client)
    shown = access.allows(JOINT_CATEGORY)
    roles = list(
        JointRole.objects.filter(referral=referral)
        .select_related("contact_user")
        .order_by("period_from", "id")
    )
    own_agency_id = viewer.membership.agency_id
    roles_by_agency = []
    for agency in (referral.from_agency, referral.to_agency):
        visible = shown or agency.pk == own_agency_id
        mine = [role for role in roles if role.agency_id == agency.pk] if visible else []
        roles_by_agency.append(JointRoles(agency=agency, roles=mine, visible=visible))
    policies = []
    if shown:
        policies = list(
            SupportPolicy.objects.filter(referral=referral)
            .select_related("created_by", "agency")
            .order_by("created_at", "id")
        )
    consent_in_force = may_share(
        client=referral.client, recipient=referral.to_agency, category=JOINT_CATEGORY
    ).allowed
    return JointSupport(
        referral=referral,
        side=side,
        own_client=referral.client if side == Side.SENDER else referral.receiving_client,
        roles_by_agency=roles_by_agency,
        policies=policies,
        access=access,
        consent_in_force=consent_in_force,
        # Changing the policy or the roles passes them to the other agency: it needs both the
        # consent and (for the receiver) that the gate shows what is being changed.
        may_change=consent_in_force and shown and can_change_joint_support(viewer, referral),
    )


def joint_contact_choices(*, viewer: Viewer) -> list[Membership]:
    """Everyone on the viewer's agency roster today, whatever the role: a supporter may well be
    the contact for home visits."""
    if not can_work_with_clients(viewer):
        raise Http404
    return list(
        Membership.objects.filter(agency_id=viewer.membership.agency_id, is_active=True)
        .select_related("user")
        .only("id", "agency_id", "user__id", "user__full_name", "user__full_name_kana")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )
