"""Who sees which referral (``referral_scope``: the sending agency's caseworkers and supervisors,
and the receiving agency's once it was sent, never an introduction; anyone else gets a 404),
one referral, and the lists of them the client page, the caseload and the live view show.
"""

from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from agencies.permissions import Viewer
from audit.access_log import log_refused_attempt
from cases.models import Client
from cases.permissions import can_work_with_clients
from cases.selectors import in_client_scope

from ..models import NEEDS_CONSENT, RECEIVED, Referral, ReferralMessage, ReferralType, Status


def received_by(agency_id: int) -> Q:
    """The referrals an agency has received: sent to it, and not an introduction (the person
    was only told of the agency; nothing was sent). The receiver sees nothing of a draft."""
    return Q(to_agency_id=agency_id, sent_at__isnull=False) & ~Q(type=ReferralType.INTRODUCTION)


def referral_scope(*, viewer: Viewer) -> QuerySet[Referral]:
    """The referrals this viewer may open."""
    if not can_work_with_clients(viewer):
        return Referral.objects.none()
    agency_id = viewer.membership.agency_id
    return Referral.objects.filter(
        # The sender's referrals are about its own clients: the client scope says so.
        (Q(from_agency_id=agency_id) & in_client_scope(viewer=viewer)) | received_by(agency_id)
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
            log_refused_attempt(viewer=viewer, client=refused.client)
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


def referrals_awaiting_me(*, viewer: Viewer, limit: int = 50) -> list[Referral]:
    """Referrals received by the viewer's agency and assigned to the viewer that still need
    them: to accept or decline, or to meet the person (shown on the caseload dashboard),
    oldest first, at most ``limit``."""
    if viewer.membership is None:
        return []
    return list(
        Referral.objects.filter(
            received_by(viewer.membership.agency_id),
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
