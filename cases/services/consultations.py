"""Writes to consultation records: logging one and correcting it (the earlier wording is kept
as a revision).
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from agencies.permissions import Viewer
from audit.services import audit_record

from ..models import Case, Consultation, ConsultationRevision
from ..permissions import can_edit_case
from .clients import client_record_first_contact

CONSULTATION_FIELDS = (
    "occurred_on",
    "start_time",
    "duration_minutes",
    "method",
    "with_client",
    "family_member",
    "partner_agency",
    "summary",
    "notes",
    "next_contact_on",
    "tags",
)


def _apply_consultation(consultation: Consultation, fields: dict[str, Any]) -> None:
    for field in CONSULTATION_FIELDS:
        if field in fields:
            setattr(consultation, field, fields[field])
    consultation.tags = list(dict.fromkeys(t.strip() for t in consultation.tags or [] if t.strip()))
    member = consultation.family_member
    if member is not None and member.household_id != consultation.case.client.household_id:
        raise ValidationError({"family_member": _("Choose a member of the client's household.")})
    if consultation.occurred_on and consultation.occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("The date is in the future.")})
    if (
        consultation.next_contact_on
        and consultation.occurred_on
        and consultation.next_contact_on < consultation.occurred_on
    ):
        raise ValidationError(
            {"next_contact_on": _("The next contact is before this consultation.")}
        )
    consultation.full_clean(exclude=["case", "created_by"])


def _refresh_case_contacts(case: Case) -> None:
    """Keep the dashboard's columns in step with the records (the rows are the truth)."""
    latest = case.consultations.order_by("-occurred_on", "-id").first()
    case.last_contact_on = latest.occurred_on if latest else None
    case.next_contact_on = latest.next_contact_on if latest else None
    case.save(update_fields=["last_contact_on", "next_contact_on", "updated_at"])


@transaction.atomic
def consultation_log(
    *, viewer: Viewer, case: Case, fields: dict[str, Any], staff: list[User] = ()
) -> Consultation:
    """Log a consultation the same day it happened; the quick entry calls this."""
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().select_related("client").get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it to log a consultation."))
    consultation = Consultation(case=case, created_by=viewer.user)
    _apply_consultation(consultation, fields)
    consultation.save()
    consultation.staff.set(list(staff) or [viewer.user])
    _refresh_case_contacts(case)
    if consultation.with_client and case.client.first_direct_contact_on is None:
        client_record_first_contact(viewer=viewer, client=case.client, on=consultation.occurred_on)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consultation.logged",
        target=consultation,
        changes={"occurred_on": [None, consultation.occurred_on.isoformat()]},
    )
    return consultation


@transaction.atomic
def consultation_correct(
    *,
    viewer: Viewer,
    consultation: Consultation,
    fields: dict[str, Any],
    staff: list[User],
    reason: str = "",
) -> Consultation:
    """Correct a record. Nothing is silently overwritten: the earlier text is kept as a
    revision, shown in the record's history with who corrected it and when."""
    if not can_edit_case(viewer, consultation.case):
        raise PermissionDenied
    consultation = (
        Consultation.objects.select_for_update()
        .select_related("case__client")
        .get(pk=consultation.pk)
    )
    previous = {
        field: _revision_value(getattr(consultation, field)) for field in CONSULTATION_FIELDS
    }
    previous["staff"] = sorted(str(u) for u in consultation.staff.all())
    _apply_consultation(consultation, fields)
    current = {
        field: _revision_value(getattr(consultation, field)) for field in CONSULTATION_FIELDS
    }
    current["staff"] = sorted(str(u) for u in staff)
    changed = {k for k in current if current[k] != previous[k]}
    if not changed:
        return consultation
    ConsultationRevision.objects.create(
        consultation=consultation, edited_by=viewer.user, previous=previous, reason=reason
    )
    consultation.save()
    consultation.staff.set(staff)
    _refresh_case_contacts(consultation.case)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consultation.corrected",
        target=consultation,
        changes={field: ["…", "…"] for field in sorted(changed)},
    )
    return consultation


def _revision_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
