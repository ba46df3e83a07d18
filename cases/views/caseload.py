"""My caseload: the caseworker's open cases, what is due today and what is overdue."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agencies.permissions import can_review_queues
from referrals.selectors import referrals_awaiting_me
from reminders.selectors import unread_reminders

from ..permissions import can_work_with_clients
from ..selectors import caseload, urgent_visits

REMINDERS_SHOWN = 5


@require_GET
def caseload_page(request: HttpRequest) -> HttpResponse:
    """One compact table, due first; the same few queries for 3 or 300 cases.

    After a consultation is logged from a row, htmx re-reads this page and takes that row and
    the summary out of it (hx-select), so there is no second way to compute either.
    """
    viewer = request.viewer
    if not can_work_with_clients(viewer):
        raise Http404
    # Supervisors watch the whole agency's follow-ups; everyone else sees their own cases.
    may_see_agency = can_review_queues(viewer.membership)
    mine_only = not (may_see_agency and request.GET.get("scope") == "agency")
    rows = caseload(viewer=viewer, mine_only=mine_only)
    # Every unacknowledged urgent visit of the agency, not only of my cases: it must not wait
    # for the primary caseworker to be back.
    urgent = urgent_visits(viewer=viewer)
    # Received referrals assigned to me: accept them, then meet the person.
    awaiting = referrals_awaiting_me(viewer=viewer)
    # The notification centre's newest unread reminders, so nothing waits behind the badge.
    reminders = unread_reminders(viewer=viewer, limit=REMINDERS_SHOWN)
    return render(
        request,
        "cases/caseload.html",
        {
            "rows": rows,
            "urgent_visits": urgent,
            "referrals_awaiting": awaiting,
            "reminders": reminders[:REMINDERS_SHOWN],
            "more_reminders": len(reminders) > REMINDERS_SHOWN,
            "urgent_client_ids": {visit.client_id for visit in urgent},
            "mine_only": mine_only,
            "may_see_agency": may_see_agency,
            "overdue_count": sum(row.overdue for row in rows),
            "due_today_count": sum(row.due_today for row in rows),
            "unplanned_count": sum(row.case.next_contact_on is None for row in rows),
        },
    )
