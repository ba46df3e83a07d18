"""My caseload: the caseworker's open cases, what is due today and what is overdue."""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agencies.permissions import can_review_queues
from referrals.selectors import referrals_awaiting_me
from reminders.selectors import unread_reminders

from ..permissions import can_work_with_clients
from ..selectors import caseload, caseload_counts, urgent_visits

REMINDERS_SHOWN = 5
# The dashboard's lists show the oldest few and say how many more wait, so the page stays the
# same size however much has piled up.
WAITING_SHOWN = 10


def _case_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@require_GET
def caseload_page(request: HttpRequest) -> HttpResponse:
    """One compact table, due first, a page at a time; the same few queries for 3 or 30,000
    cases.

    After a consultation is logged from a row, the page re-reads itself with ``?case=<id>``
    and takes that row and the summary out of the answer, so there is no second way to
    compute either.
    """
    viewer = request.viewer
    if not can_work_with_clients(viewer):
        raise Http404
    # Supervisors watch the whole agency's follow-ups; everyone else sees their own cases.
    may_see_agency = can_review_queues(viewer.membership)
    mine_only = not (may_see_agency and request.GET.get("scope") == "agency")
    counts = caseload_counts(viewer=viewer, mine_only=mine_only)
    context = {
        "counts": counts,
        "mine_only": mine_only,
        "may_see_agency": may_see_agency,
    }
    # Every unacknowledged urgent visit of the agency, not only of my cases: it must not wait
    # for the primary caseworker to be back.
    urgent = urgent_visits(viewer=viewer)
    context["urgent_client_ids"] = {visit.client_id for visit in urgent}
    case_id = _case_id(request.GET.get("case"))
    if case_id is not None:
        # The refresh of one row: the summary and that case (none if it is closed or gone).
        context["rows"] = caseload(viewer=viewer, mine_only=mine_only, case_id=case_id).items
        return render(request, "cases/caseload.html#refresh", context)
    page = caseload(viewer=viewer, mine_only=mine_only, cursor=request.GET.get("after"))
    # Received referrals assigned to me: accept them, then meet the person.
    awaiting = referrals_awaiting_me(viewer=viewer, limit=WAITING_SHOWN + 1)
    # The notification centre's newest unread reminders, so nothing waits behind the badge.
    reminders = unread_reminders(viewer=viewer, limit=REMINDERS_SHOWN)
    params = request.GET.copy()
    params.pop("after", None)
    return render(
        request,
        "cases/caseload.html",
        context
        | {
            "rows": page.items,
            "next_cursor": page.next_cursor,
            "params": params.urlencode(),
            "first_page": not request.GET.get("after"),
            "urgent_visits": urgent[:WAITING_SHOWN],
            "more_urgent_visits": max(len(urgent) - WAITING_SHOWN, 0),
            "referrals_awaiting": awaiting[:WAITING_SHOWN],
            "more_referrals_awaiting": len(awaiting) > WAITING_SHOWN,
            "reminders": reminders[:REMINDERS_SHOWN],
            "more_reminders": len(reminders) > REMINDERS_SHOWN,
        },
    )
