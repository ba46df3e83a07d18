"""My caseload: the caseworker's open cases, what is due today and what is overdue."""

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from agencies.permissions import can_review_queues
from core.japanese import without_control_characters

from ..extensions import caseload_panels
from ..permissions import can_work_with_clients
from ..selectors import case_get, caseload, caseload_counts, urgent_visits

# The dashboard's lists show the oldest few and say how many more wait, so the page stays the
# same size however much has piled up.
WAITING_SHOWN = 10
# A name and its reading fit in this; a longer filter is cut rather than refused.
QUERY_MAX_LENGTH = 100
TEMPLATE = "cases/caseload.html"


def _scope(request: HttpRequest, params: QueryDict) -> tuple[bool, bool]:
    """(may_see_agency, mine_only): supervisors watch the whole agency's follow-ups with
    ``scope=agency``; everyone else sees their own cases."""
    may_see_agency = can_review_queues(request.viewer)
    return may_see_agency, not (may_see_agency and params.get("scope") == "agency")


def _urgent_client_ids(visits) -> set[int]:
    return {visit.client_id for visit in visits}


@require_http_methods(["GET", "POST"])
def caseload_page(request: HttpRequest) -> HttpResponse:
    """One compact table, due first, a page at a time; the same few queries for 3 or 30,000
    cases, filtered or not.

    ``q`` narrows it to the clients whose name or reading holds the text (any script, width
    or spacing, as in the client search) and ``due`` to the overdue and due today. The filter
    is POSTed (the form, the text box as one types, the page links of a filtered list): a
    name stays out of the address bar, the history and the server's logs. A GET takes only
    what names no one — ``scope``, ``due`` and the cursor — and ignores ``q``. htmx asks as one
    types and gets the list alone (rows, the count and the page links); any other request, or
    htmx restoring its history, gets the whole page.
    """
    viewer = request.viewer
    if not can_work_with_clients(viewer):
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    may_see_agency, mine_only = _scope(request, params)
    # Shown back as typed; searched for up to the length a name can have.
    query = without_control_characters(request.POST.get("q", ""))
    due_only = params.get("due") == "1"
    counts = caseload_counts(viewer=viewer, mine_only=mine_only)
    # Every unacknowledged urgent visit of the agency, not only of my cases: it must not wait
    # for the primary caseworker to be back.
    urgent = urgent_visits(viewer=viewer)
    page = caseload(
        viewer=viewer,
        mine_only=mine_only,
        cursor=params.get("after") or None,
        text=query.strip()[:QUERY_MAX_LENGTH],
        due_only=due_only,
    )
    context = {
        "counts": counts,
        "mine_only": mine_only,
        "may_see_agency": may_see_agency,
        "query": query,
        "query_max_length": QUERY_MAX_LENGTH,
        "due_only": due_only,
        "urgent_client_ids": _urgent_client_ids(urgent),
        "rows": page.items,
        "next_cursor": page.next_cursor,
        "first_page": not params.get("after"),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{TEMPLATE}#list", context | {"list_only": True})
    else:
        context |= {
            "urgent_visits": urgent[:WAITING_SHOWN],
            "more_urgent_visits": max(len(urgent) - WAITING_SHOWN, 0),
        }
        # What the apps above add (cases.extensions): referrals assigned to me, unread reminders.
        for panel in caseload_panels():
            context |= panel.read(viewer, WAITING_SHOWN)
        response = render(request, TEMPLATE, context)
    # The same URL answers a list or a page: a browser cache must not give one for the other.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def caseload_row(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One case's caseload row and the summary (out of band), for the page to refresh after
    a consultation is logged from that row: no second way to decide what is overdue.

    A case of another agency is refused as everywhere (404, the attempt logged); one of the
    agency that is not in the list (closed, or not mine) answers the summary alone and swaps
    nothing."""
    viewer = request.viewer
    _, mine_only = _scope(request, request.GET)
    rows = caseload(viewer=viewer, mine_only=mine_only, case_id=public_id).items
    if not rows:
        case_get(viewer=viewer, public_id=public_id)
    context = {
        "counts": caseload_counts(viewer=viewer, mine_only=mine_only),
        "mine_only": mine_only,
        "rows": rows,
        "urgent_client_ids": _urgent_client_ids(urgent_visits(viewer=viewer)),
        "summary_oob": True,
    }
    response = render(request, f"{TEMPLATE}#refresh", context)
    if not rows:
        response["HX-Reswap"] = "none"
    return response
