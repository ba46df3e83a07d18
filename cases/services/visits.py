"""Writes to supporters' assignments and their home visits."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Membership, Role
from agencies.permissions import Viewer
from audit.services import audit_record

from ..models import Client, HomeVisit, SupporterAssignment
from ..permissions import can_edit_client, is_supporter


@transaction.atomic
def supporter_assign(
    *, viewer: Viewer, client: Client, supporter: Membership, approach_note: str = ""
) -> SupporterAssignment:
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    if (
        supporter.agency_id != client.agency_id
        or supporter.role != Role.SUPPORTER
        or not supporter.is_active
    ):
        raise ValidationError({"supporter": _("Choose an active supporter of this agency.")})
    assignment, created = SupporterAssignment.objects.get_or_create(
        client=client,
        supporter=supporter,
        ended_on=None,
        defaults={"approach_note": approach_note, "assigned_by": viewer.user},
    )
    if not created and approach_note != assignment.approach_note:
        assignment.approach_note = approach_note
        assignment.save(update_fields=["approach_note"])
    if created:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="supporter.assigned",
            target=client,
            changes={"supporter": [None, str(supporter.user)]},
        )
    return assignment


@transaction.atomic
def supporter_unassign(*, viewer: Viewer, assignment: SupporterAssignment) -> None:
    if not can_edit_client(viewer, assignment.client):
        raise PermissionDenied
    updated = SupporterAssignment.objects.filter(pk=assignment.pk, ended_on=None).update(
        ended_on=timezone.localdate()
    )
    if updated:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="supporter.unassigned",
            target=assignment.client,
            changes={"supporter": [str(assignment.supporter.user), None]},
        )


@transaction.atomic
def home_visit_log(*, viewer: Viewer, client: Client, fields: dict[str, Any]) -> HomeVisit:
    """A supporter records a household visit; only for a client they are assigned to."""
    if (
        not is_supporter(viewer)
        or not SupporterAssignment.objects.filter(
            client=client, supporter=viewer.membership, ended_on=None
        ).exists()
    ):
        raise PermissionDenied
    visit = HomeVisit(client=client, supporter=viewer.user)
    for field in ("visited_on", "outcome", "heard", "is_urgent", "urgent_note"):
        if field in fields:
            setattr(visit, field, fields[field])
    if visit.is_urgent and not visit.urgent_note.strip():
        raise ValidationError({"urgent_note": _("Write what is urgent.")})
    if visit.visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("The date is in the future.")})
    visit.full_clean(exclude=["client", "supporter"])
    visit.save()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="visit.logged",
        target=visit,
        changes={"outcome": [None, visit.outcome], "is_urgent": [None, visit.is_urgent]},
    )
    return visit


@transaction.atomic
def home_visit_acknowledge(*, viewer: Viewer, visit: HomeVisit) -> HomeVisit:
    """The caseworker has seen an urgent visit: the flag comes off the dashboard."""
    if not can_edit_client(viewer, visit.client):
        raise PermissionDenied
    HomeVisit.objects.filter(pk=visit.pk, acknowledged_at=None).update(
        acknowledged_by=viewer.user, acknowledged_at=timezone.now()
    )
    visit.refresh_from_db()
    return visit
