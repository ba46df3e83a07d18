"""Every read of clients, cases and consultation records goes through here.

``client_scope`` is the single place that decides which client records a viewer reaches; every
other selector starts from it (never from ``Client.objects.all()``). Another agency's client is
a 404, not a 403: we do not confirm that a record exists.

One module per subject: ``scope`` (who sees what, and the gets of one record), ``clients``
(search and the client page), ``households``, ``caseload``, ``timeline``, ``plans``, ``meetings``,
``visits`` (supporters and home visits), ``shared_record`` (a partner's live view) and
``pickers`` (the agency picker's purposes). Import from ``cases.selectors``.
"""

from .caseload import (
    CASELOAD_ORDER,
    CASELOAD_PAGE_SIZE,
    CaseloadCounts,
    CaseloadRow,
    caseload,
    caseload_counts,
)
from .clients import (
    ClientFlags,
    client_access_log,
    client_cases,
    client_page_cases,
    client_page_flags,
    client_possible_duplicates,
    client_search,
)
from .households import MIDDLE_AGED_CHILD_AGE, OLDER_PARENT_AGE, HouseholdView, household_view
from .meetings import meeting_get, meeting_list, meeting_scope
from .pickers import (
    consultation_partners_to_pick,
    meeting_agencies_to_pick,
    partner_agencies,
    plan_agencies,
    plan_agencies_to_pick,
)
from .plans import PlanChanges, case_plan_summary, case_plans, plan_changes, plan_get
from .scope import case_get, case_scope, client_get, client_scope, consultation_get, in_client_scope
from .timeline import (
    TIMELINE_PAGE_SIZE,
    TimelineEntry,
    client_timeline,
    timeline_entry_kinds,
    timeline_kind_choices,
    timeline_kinds,
)
from .visits import (
    NO_CONTACT_NOTE_AFTER,
    RecentVisits,
    client_assignments,
    client_visits,
    supporter_assignment_get,
    supporter_assignments,
    supporter_own_visits,
    urgent_visit_get,
    urgent_visits,
    visits_without_contact_in_a_row,
)

__all__ = [
    "CASELOAD_ORDER",
    "CASELOAD_PAGE_SIZE",
    "MIDDLE_AGED_CHILD_AGE",
    "NO_CONTACT_NOTE_AFTER",
    "OLDER_PARENT_AGE",
    "TIMELINE_PAGE_SIZE",
    "CaseloadCounts",
    "CaseloadRow",
    "ClientFlags",
    "HouseholdView",
    "PlanChanges",
    "RecentVisits",
    "TimelineEntry",
    "case_get",
    "case_plan_summary",
    "case_plans",
    "case_scope",
    "caseload",
    "caseload_counts",
    "client_access_log",
    "client_assignments",
    "client_cases",
    "client_get",
    "client_page_cases",
    "client_page_flags",
    "client_possible_duplicates",
    "client_scope",
    "client_search",
    "client_timeline",
    "client_visits",
    "consultation_get",
    "consultation_partners_to_pick",
    "household_view",
    "in_client_scope",
    "meeting_agencies_to_pick",
    "meeting_get",
    "meeting_list",
    "meeting_scope",
    "partner_agencies",
    "plan_agencies",
    "plan_agencies_to_pick",
    "plan_changes",
    "plan_get",
    "supporter_assignment_get",
    "supporter_assignments",
    "supporter_own_visits",
    "timeline_entry_kinds",
    "timeline_kind_choices",
    "timeline_kinds",
    "urgent_visit_get",
    "urgent_visits",
    "visits_without_contact_in_a_row",
]
