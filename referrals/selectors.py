"""Reads of referrals (つなぎ) and of the records the law asks for (29条 provision records,
30条 confirmation records).

``referral_scope`` is the one rule of who sees which referral: the caseworkers and supervisors
of the sending agency (every referral they made, drafts included) and of the receiving agency
(once it was sent to them, and never an introduction: 紹介のみ sends nothing about the person).
Anyone else gets a 404. What of the person the receiving side sees is decided by the consent
gate (``referral_snapshot``), not by the template.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from agencies.models import Membership, Role
from agencies.permissions import Viewer
from cases.models import (
    Client,
)
from cases.permissions import can_work_with_clients
from cases.record_data import RecordSection, record_sections
from cases.selectors import client_scope
from consent.gate import (
    RecordAccess,
    log_access,
    log_denied_attempt,
    open_referral_copy,
    record_access,
)
from consent.models import DataCategory
from core.japanese import search_key
from core.pagination import KeysetPage, keyset_page

from .models import (
    NEEDS_CONSENT,
    RECEIVED,
    ConfirmationRecord,
    ProvisionRecord,
    Referral,
    ReferralMessage,
    ReferralType,
    Status,
)
from .permissions import Side, side_of


def referral_scope(*, viewer: Viewer) -> QuerySet[Referral]:
    """The referrals this viewer may open."""
    if not can_work_with_clients(viewer):
        return Referral.objects.none()
    agency_id = viewer.membership.agency_id
    return Referral.objects.filter(
        # The sender's referrals are about its own clients: the client scope says so.
        Q(from_agency_id=agency_id, client__in=client_scope(viewer=viewer))
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
    in_scope = client_scope(viewer=viewer)
    return list(
        referral_scope(viewer=viewer)
        .filter(
            Q(client=client, client__in=in_scope)
            | Q(receiving_client=client, receiving_client__in=in_scope)
        )
        .select_related("from_agency", "to_agency", "client", "receiving_client")
        .order_by("-created_at", "-id")
    )


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


def _provisions(*, viewer: Viewer) -> QuerySet[ProvisionRecord]:
    if not can_work_with_clients(viewer):
        return ProvisionRecord.objects.none()
    return ProvisionRecord.objects.filter(
        provider_id=viewer.membership.agency_id, client__in=client_scope(viewer=viewer)
    ).select_related("client", "recipient", "provided_by", "referral")


def _confirmations(*, viewer: Viewer) -> QuerySet[ConfirmationRecord]:
    if not can_work_with_clients(viewer):
        return ConfirmationRecord.objects.none()
    return ConfirmationRecord.objects.filter(
        recipient_id=viewer.membership.agency_id, client__in=client_scope(viewer=viewer)
    ).select_related("client", "provider", "confirmed_by", "referral")


PROVISION_ORDER = ["-provided_at", "-id"]
CONFIRMATION_ORDER = ["-received_at", "-id"]


def provision_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = 50
) -> KeysetPage:
    """This agency's provision records (第三者提供記録), newest first, by client name."""
    records = _provisions(viewer=viewer).filter(_name_filter(name))
    return keyset_page(records, ordering=PROVISION_ORDER, cursor=cursor, size=size)


def confirmation_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = 50
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


def referrals_awaiting_me(*, viewer: Viewer) -> list[Referral]:
    """Referrals received by the viewer's agency and assigned to the viewer that still need
    them: to accept or decline, or to meet the person (shown on the caseload dashboard)."""
    if viewer.membership is None:
        return []
    return list(
        Referral.objects.filter(
            to_agency_id=viewer.membership.agency_id,
            assignee=viewer.user,
            status__in=[Status.SENT, Status.ACCEPTED],
        )
        .select_related("from_agency")
        .order_by("sent_at", "id")[:50]
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
