"""Writes to clients, households, cases and consultation records.

Each takes the acting viewer first, checks permission with ``cases.permissions``, writes its
audit entry (personal data masked) and runs in one transaction.

One module per subject: ``clients``, ``households``, ``cases`` (open, change, stage, close),
``consultations``, ``plans``, ``meetings`` and ``visits`` (supporters and home visits); helpers
more than one of them needs are in ``_common``. Import from ``cases.services``.
"""

from .cases import (
    CASE_FIELDS,
    CASE_MASKED,
    case_close,
    case_move_stage,
    case_open,
    case_reopen,
    case_update,
)
from .clients import (
    CLIENT_FIELDS,
    CLIENT_MASKED,
    PossibleDuplicateError,
    client_create,
    client_record_first_contact,
    client_update,
)
from .consultations import CONSULTATION_FIELDS, consultation_correct, consultation_log
from .households import (
    MEMBER_FIELDS,
    household_member_remove,
    household_member_save,
    household_save,
)
from .meetings import MEETING_FIELDS, meeting_case_record, meeting_save
from .plans import (
    ITEM_FIELDS,
    plan_create,
    plan_goal_remove,
    plan_goal_save,
    plan_item_remove,
    plan_item_save,
    plan_items_reorder,
    plan_record_agreement,
    plan_review_record,
    plan_revise,
    plan_update,
)
from .visits import home_visit_acknowledge, home_visit_log, supporter_assign, supporter_unassign

__all__ = [
    "CASE_FIELDS",
    "CASE_MASKED",
    "CLIENT_FIELDS",
    "CLIENT_MASKED",
    "CONSULTATION_FIELDS",
    "ITEM_FIELDS",
    "MEETING_FIELDS",
    "MEMBER_FIELDS",
    "PossibleDuplicateError",
    "case_close",
    "case_move_stage",
    "case_open",
    "case_reopen",
    "case_update",
    "client_create",
    "client_record_first_contact",
    "client_update",
    "consultation_correct",
    "consultation_log",
    "home_visit_acknowledge",
    "home_visit_log",
    "household_member_remove",
    "household_member_save",
    "household_save",
    "meeting_case_record",
    "meeting_save",
    "plan_create",
    "plan_goal_remove",
    "plan_goal_save",
    "plan_item_remove",
    "plan_item_save",
    "plan_items_reorder",
    "plan_record_agreement",
    "plan_review_record",
    "plan_revise",
    "plan_update",
    "supporter_assign",
    "supporter_unassign",
]
