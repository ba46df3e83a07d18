"""Helpers shared by several of the cases services: checking a list of choices, and the audit
entry of a plan change (written by the plan services and by a meeting that approves a plan).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from agencies.permissions import Viewer
from audit.services import audit_record

from ..models import Plan


def _check_choices(values: list[str], choices: type, field: str) -> list[str]:
    unknown = [v for v in values if v not in choices.values]
    if unknown:
        raise ValidationError({field: _("Unknown choice: %(value)s") % {"value": unknown[0]}})
    return list(dict.fromkeys(values))


def _audit_plan(viewer: Viewer, plan: Plan, action: str, changes: dict | None = None) -> None:
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action=action,
        target=plan,
        changes=changes or {},
    )
