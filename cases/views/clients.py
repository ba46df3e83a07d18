"""The client pages: search, registration (with the duplicate check), the client page itself
(profile, household, cases and one timeline), and the first direct contact."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import client_access_log
from consent.selectors import client_consents, client_emergency_disclosures
from core.forms import add_service_errors
from councils.selectors import agenda_items_for_client
from referrals.selectors import referral_list_for_client

from ..forms.cases import StageMoveForm
from ..forms.clients import ClientForm, ClientSearchForm, FirstContactForm
from ..forms.consultations import QuickConsultationForm
from ..permissions import can_work_with_clients
from ..selectors import (
    TIMELINE_KIND_CHOICES,
    TIMELINE_KINDS,
    case_plans,
    client_assignments,
    client_cases,
    client_get,
    client_visits,
    household_view,
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


@require_GET
def client_search(request: HttpRequest) -> HttpResponse:
    _require_client_work(request)
    form = ClientSearchForm(request.GET or None)
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
            cursor=request.GET.get("after"),
        )
    params = request.GET.copy()
    params.pop("after", None)
    template = "cases/client_search.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"form": form, "page": page, "params": params.urlencode()})


@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    _require_client_work(request)
    form = ClientForm(request.POST or None, initial={"full_name": request.GET.get("q", "")})
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
    kinds = tuple(k for k in request.GET.getlist("kind") if k in TIMELINE_KINDS)
    return kinds or TIMELINE_KINDS


@require_GET
def client_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=public_id)
    cases = client_cases(viewer=request.viewer, client=client)
    open_case = next((case for case in cases if case.is_open), None)
    kinds = _timeline_kinds(request)
    context = {
        "client": client,
        "cases": cases,
        "open_case": open_case,
        "household_view": household_view(viewer=request.viewer, client=client),
        "plans": case_plans(viewer=request.viewer, case=open_case) if open_case else [],
        "assignments": client_assignments(viewer=request.viewer, client=client),
        "recent_visits": client_visits(viewer=request.viewer, client=client),
        "consents": client_consents(viewer=request.viewer, client=client),
        "referrals": referral_list_for_client(viewer=request.viewer, client=client),
        "emergencies": client_emergency_disclosures(viewer=request.viewer, client=client),
        "access_log": client_access_log(viewer=request.viewer, client=client),
        "council_items": agenda_items_for_client(viewer=request.viewer, client=client),
        "timeline": client_timeline_selector(viewer=request.viewer, client=client, kinds=kinds),
        "timeline_kinds": kinds,
        "timeline_kind_choices": TIMELINE_KIND_CHOICES,
        "stage_form": StageMoveForm() if open_case else None,
        "form": QuickConsultationForm.for_case(open_case, request.viewer) if open_case else None,
        "first_contact_form": FirstContactForm(),
    }
    return render(request, "cases/client_detail.html", context)


@require_GET
def client_timeline(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The timeline alone, filtered (htmx swaps it into the client page)."""
    client = client_get(viewer=request.viewer, public_id=public_id)
    kinds = _timeline_kinds(request)
    timeline = client_timeline_selector(viewer=request.viewer, client=client, kinds=kinds)
    return render(
        request,
        "cases/client_detail.html#timeline",
        {"client": client, "timeline": timeline},
    )


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
