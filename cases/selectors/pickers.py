"""Agencies a form may name: the agency picker's purposes, registered in ``CasesConfig``."""

from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict

from agencies.models import Agency
from agencies.permissions import Viewer

from ..permissions import can_work_with_clients


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
