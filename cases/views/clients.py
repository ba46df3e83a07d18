"""The client pages: search, registration (with the duplicate check), the client page itself
(profile, household, the open case and its plan, one timeline), and the first direct contact.

The client page shows what a caseworker needs at first sight in a fixed number of queries; every
other section (consents, emergency disclosures, 支援会議, the access log, supporters and visits,
referrals, earlier cases and stage history, the timeline's pages) is a fragment of the same
template, loaded when it is opened or scrolled to, each from its own small GET endpoint. Each
endpoint reads the client through ``client_get`` first: the same scope, and a look from outside
the holding agency refused and logged as on the page itself."""

from collections.abc import Callable
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.permissions import is_supervisor_of
from core.forms import add_service_errors

from ..forms.cases import StageMoveForm
from ..forms.clients import (
    AccessLogFilterForm,
    ClientForm,
    ClientSearchForm,
    FirstContactForm,
    client_pick_label,
)
from ..permissions import can_work_with_clients
from ..selectors import (
    case_plan_summary,
    client_access_log,
    client_assignments,
    client_cases,
    client_get,
    client_page_cases,
    client_page_flags,
    client_visits,
    household_view,
    timeline_kind_choices,
    timeline_kinds,
)
from ..selectors import (
    client_search as client_search_selector,
)
from ..selectors import (
    client_timeline as client_timeline_selector,
)
from ..services import (
    PossibleDuplicateError,
    client_record_first_contact,
    client_update,
)
from ..services import (
    client_create as client_create_service,
)


def _require_client_work(request: HttpRequest) -> None:
    if not can_work_with_clients(request.viewer):
        raise Http404


@require_http_methods(["GET", "POST"])
def client_search(request: HttpRequest) -> HttpResponse:
    """GET: the empty search. POST: the clients found (a page; the next one with ``after``).

    The search is POSTed, also when htmx sends it as one types: a name, a reading or a date of
    birth stays out of the address bar, the browser history and every server log. The result
    is not bookmarkable, which is right for a search by a person's name; the next page posts
    the same criteria again with the cursor, which is posted too: it holds the last row's
    reading (the order is ``kana_key``)."""
    _require_client_work(request)
    form = ClientSearchForm(request.POST if request.method == "POST" else None)
    page = None
    if (
        form.is_bound
        and form.is_valid()
        and (form.cleaned_data["q"] or form.cleaned_data["birth_date"])
    ):
        page = client_search_selector(
            viewer=request.viewer,
            text=form.cleaned_data["q"],
            birth_date=form.cleaned_data["birth_date"],
            cursor=request.POST.get("after") or None,
        )
    template = "cases/client_search.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"form": form, "page": page})


# The picker shows at most this many clients: type more of the name to find the one wanted.
CLIENT_PICK_LIMIT = 15


def _uuids(text: str) -> set[UUID]:
    found = set()
    for part in text.split(","):
        try:
            found.add(UUID(part.strip()))
        except ValueError:
            continue
    return found


@require_POST
def client_pick(request: HttpRequest) -> HttpResponse:
    """The client picker's options for what was typed (``q``, POSTed: a name stays out of the
    URL and so out of the server's access log): the agency's clients found by the kana search,
    at most ``CLIENT_PICK_LIMIT``, less those in ``exclude`` (public ids). With ``open_case``,
    only clients with an open case, each option's value that case's public id (the 支援調整会議's
    case picker). ``exclude`` and ``open_case`` name no one and stay in the URL the form gives
    the widget. Like the search page, nothing is logged: these are the agency's own records."""
    _require_client_work(request)
    text = request.POST.get("q", "")
    open_case = bool(request.GET.get("open_case"))
    clients, more = [], False
    if text.split():
        page = client_search_selector(viewer=request.viewer, text=text, with_open_case=open_case)
        excluded = _uuids(request.GET.get("exclude", ""))
        found = [client for client in page.items if client.public_id not in excluded]
        clients = found[:CLIENT_PICK_LIMIT]
        more = len(found) > CLIENT_PICK_LIMIT or page.next_cursor is not None
    context = {
        # The label the text box shows once chosen: the same as the form's own. The search
        # prefetched each client's open case (at most one).
        "options": [
            (
                client,
                client_pick_label(client),
                client.open_cases[0].public_id if open_case else client.public_id,
            )
            for client in clients
        ],
        "open_case": open_case,
        "more": more,
        "text": text,
        "target": (request.htmx.target if request.htmx else None) or "client-pick",
    }
    return render(request, "cases/_client_pick_results.html", context)


@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    _require_client_work(request)
    # No name taken from the URL (it was ``?q=``): a name in a link ends up in the history and
    # the server's logs.
    form = ClientForm(request.POST or None)
    matches = []
    if request.method == "POST" and form.is_valid():
        try:
            client = client_create_service(
                viewer=request.viewer,
                fields=form.service_fields(),
                duplicate_confirmed=form.cleaned_data["duplicate_confirmed"],
            )
        except PossibleDuplicateError as error:
            matches = error.matches
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The client was registered."))
            return redirect("cases:client", public_id=client.public_id)
    return render(request, "cases/client_form.html", {"form": form, "matches": matches})


@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=public_id)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            client_update(viewer=request.viewer, client=client, fields=form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("cases:client", public_id=client.public_id)
    return render(request, "cases/client_form.html", {"form": form, "client": client})


def _timeline_kinds(request: HttpRequest) -> tuple[str, ...]:
    known = timeline_kinds()
    kinds = tuple(k for k in request.GET.getlist("kind") if k in known)
    return kinds or known


PAGE = "cases/client_detail.html"


def _timeline_params(request: HttpRequest) -> str:
    """The timeline's filter as a query string, for the pages after the first."""
    return urlencode([("kind", kind) for kind in request.GET.getlist("kind")])


@require_GET
def client_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=public_id)
    cases = client_page_cases(viewer=request.viewer, client=client)
    open_case = next((case for case in cases if case.is_open), None)
    context = {
        "client": client,
        "open_case": open_case,
        "closed_cases": [case for case in cases if not case.is_open],
        "household_view": household_view(viewer=request.viewer, client=client),
        "plans": case_plan_summary(viewer=request.viewer, case=open_case) if open_case else [],
        "flags": client_page_flags(viewer=request.viewer, client=client),
        "shows_access_log": is_supervisor_of(request.viewer, client.agency_id),
        "timeline_kinds": _timeline_kinds(request),
        "timeline_params": _timeline_params(request),
        "timeline_kind_choices": timeline_kind_choices(),
        "stage_form": StageMoveForm() if open_case else None,
    }
    return render(request, PAGE, context)


@require_GET
def client_timeline(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A page of the timeline, filtered by kind: the first swaps in for the whole list, a later
    one (``after``) for the "more" button at the end of the one before."""
    client = client_get(viewer=request.viewer, public_id=public_id)
    kinds = _timeline_kinds(request)
    cursor = request.GET.get("after")
    page = client_timeline_selector(
        viewer=request.viewer, client=client, kinds=kinds, cursor=cursor
    )
    partial = "timeline_page" if cursor else "timeline"
    context = {"client": client, "timeline": page, "timeline_params": _timeline_params(request)}
    return render(request, f"{PAGE}#{partial}", context)


def client_section(request: HttpRequest, public_id: UUID, partial: str, read) -> HttpResponse:
    """One section of the client page: the client through ``client_get`` (scope and refusal
    logged as on the page), then ``read(viewer, client)`` for what the section shows, rendered
    as the page's ``partial``. The apps above cases serve their sections through this too."""
    client = client_get(viewer=request.viewer, public_id=public_id)
    context = {"client": client, **read(request.viewer, client)}
    return render(request, f"{PAGE}#{partial}", context)


def section_view(partial: str, name: str, selector: Callable) -> Callable:
    """The view of a section that shows one selector's answer, ``selector(viewer=, client=)``,
    as ``name`` in the page's ``partial``."""

    @require_GET
    def view(request: HttpRequest, public_id: UUID) -> HttpResponse:
        return client_section(
            request,
            public_id,
            partial,
            lambda viewer, client: {name: selector(viewer=viewer, client=client)},
        )

    view.__doc__ = f"The client page's {partial} section (loads when opened)."
    return view


@require_http_methods(["GET", "POST"])
def client_access_log_section(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """ "Who looked at this client", filtered by person or agency and days, a page at a time:
    the holding agency's supervisors see it; for anyone else on the record it is empty. A later
    page (``after``) answers its rows alone, for the "earlier" button to swap in.

    The filter is POSTed (and so is the "earlier" button of a filtered list, with the filter
    again): a staff member's name typed into "who" stays out of the URL and the server's logs.
    A GET shows the list unfiltered (with ``after``, a later page of it)."""
    data = request.POST if request.method == "POST" else QueryDict()
    form = AccessLogFilterForm(data)
    cursor = (data if request.method == "POST" else request.GET).get("after") or None
    filters = [(k, v) for k, v in data.items() if k in form.fields and v]

    def read(viewer, client):
        page = client_access_log(viewer=viewer, client=client, cursor=cursor, **form.filters())
        return {"access_log": page, "access_log_form": form, "access_log_filters": filters}

    partial = "access_log_page" if cursor else "access_log"
    return client_section(request, public_id, partial, read)


@require_GET
def client_supporters_section(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return client_section(
        request,
        public_id,
        "supporters",
        lambda viewer, client: {
            "assignments": client_assignments(viewer=viewer, client=client),
            "recent_visits": client_visits(viewer=viewer, client=client),
        },
    )


@require_GET
def client_case_history_section(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Every case of the client with its stage history (and the way to reopen a closed one)."""

    def read(viewer, client):
        cases = client_cases(viewer=viewer, client=client)
        return {"cases": cases, "open_case": next((c for c in cases if c.is_open), None)}

    return client_section(request, public_id, "case_history", read)


@require_POST
def client_first_contact(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=public_id)
    form = FirstContactForm(request.POST)
    if form.is_valid():
        try:
            client_record_first_contact(
                viewer=request.viewer, client=client, on=form.cleaned_data["on"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The first direct contact was recorded."))
    else:
        messages.error(request, _("Enter the date of the first direct contact."))
    return redirect("cases:client", public_id=client.public_id)
