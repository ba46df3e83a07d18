"""Who sees which client: ``client_scope`` (and the condition ``in_client_scope``) is the single
place that decides it; ``case_scope`` follows it. The gets of one client, case or consultation
record answer 404 outside it (``_refused``, which also logs the attempt).
"""

from typing import NoReturn
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from agencies.permissions import Viewer
from audit.access_log import log_refused_attempt

from ..models import Case, Client, Consultation, ConsultationRevision
from ..permissions import can_work_with_clients


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
        log_refused_attempt(viewer=viewer, client=client)
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
