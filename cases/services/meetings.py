"""Writes to support coordination meetings (支援調整会議) and what each decided for a case."""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from agencies.models import Agency
from agencies.permissions import Viewer
from audit.services import audit_record

from ..models import Case, Decision, Meeting, MeetingCase, Plan, PlanStatus
from ..permissions import can_edit_case, can_host_meeting, can_work_with_clients
from ._common import _audit_plan, _check_choices

MEETING_FIELDS = ("held_on", "start_time", "place", "minutes", "other_participants")


@transaction.atomic
def meeting_save(
    *,
    viewer: Viewer,
    meeting: Meeting | None,
    fields: dict[str, Any],
    participant_agencies: list[Agency],
    participant_users: list[User],
) -> Meeting:
    """Record (meeting=None) or change a support coordination meeting of the viewer's agency."""
    if not can_work_with_clients(viewer):
        raise PermissionDenied
    created = meeting is None
    if created:
        meeting = Meeting(agency=viewer.membership.agency, created_by=viewer.user)
    else:
        if not can_host_meeting(viewer, meeting):
            raise PermissionDenied
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for field in MEETING_FIELDS:
        if field in fields:
            setattr(meeting, field, fields[field])
    meeting.full_clean(exclude=["agency", "created_by"])
    meeting.save()
    agencies = {a.pk: a for a in participant_agencies}
    agencies.setdefault(meeting.agency_id, meeting.agency)
    meeting.participant_agencies.set(agencies.values())
    meeting.participant_users.set(participant_users)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="meeting.created" if created else "meeting.updated",
        target=meeting,
        changes={"held_on": [None, meeting.held_on.isoformat()]} if created else {},
    )
    return meeting


@transaction.atomic
def meeting_case_record(
    *,
    viewer: Viewer,
    meeting: Meeting,
    case: Case,
    plan: Plan | None,
    decisions: list[str],
    next_review_on: date | None,
    note: str,
) -> MeetingCase:
    """Record what the meeting decided for one case. Approving a plan marks that version
    approved at this meeting."""
    if not can_host_meeting(viewer, meeting) or not can_edit_case(viewer, case):
        raise PermissionDenied
    decisions = _check_choices(decisions, Decision, "decisions")
    if plan is not None and plan.case_id != case.pk:
        raise ValidationError({"plan": _("Choose a plan of this case.")})
    if Decision.PLAN_APPROVED in decisions:
        if plan is None:
            raise ValidationError({"plan": _("Choose the plan version that was approved.")})
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        # Changing the record of a case later (a note, the next review) keeps the approval this
        # meeting gave: approving again at the same meeting is not an error, and not a new event.
        approved_here = plan.status == PlanStatus.APPROVED and plan.approved_at_id == meeting.pk
        if not approved_here and plan.status != PlanStatus.AGREED:
            raise ValidationError(
                {"plan": _("Only a version the client agreed to can be approved.")}
            )
        if not approved_here:
            plan.status = PlanStatus.APPROVED
            plan.approved_at = meeting
            if next_review_on:
                plan.review_on = next_review_on
            plan.save(update_fields=["status", "approved_at", "review_on", "updated_at"])
            _audit_plan(viewer, plan, "plan.approved", {"status": ["agreed", "approved"]})
    item, _created = MeetingCase.objects.update_or_create(
        meeting=meeting,
        case=case,
        defaults={
            "plan": plan,
            "decisions": decisions,
            "next_review_on": next_review_on,
            "note": note,
        },
    )
    return item
