"""Supporters (ひきこもりサポーター) and their home visits (訪問記録).

Two sides. The caseworker dispatches a supporter to a client, ends it, and acknowledges an
urgent visit (which takes the flag off the dashboard). The supporter, on a phone, sees "my
households" and logs visits: only the clients assigned to them, and of those only the name,
address, how to approach and their own visits. Every other client URL stays a 404 for a
supporter, because ``client_scope`` gives them nothing; their way in is
``supporter_assignment_get``, which needs an active assignment.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import add_service_errors

from ..forms.visits import SupporterAssignForm, VisitForm
from ..selectors import (
    client_assignments,
    client_get,
    supporter_assignment_get,
    supporter_assignments,
    supporter_own_visits,
    urgent_visit_get,
)
from ..services import (
    home_visit_acknowledge,
    home_visit_log,
)
from ..services import (
    supporter_assign as supporter_assign_service,
)
from ..services import (
    supporter_unassign as supporter_unassign_service,
)

# --- The caseworker's side -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def supporter_assign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Dispatch one of the agency's supporters to the client, with how to approach them."""
    client = client_get(viewer=request.viewer, public_id=public_id)
    form = SupporterAssignForm(request.POST or None, agency=client.agency)
    if request.method == "POST" and form.is_valid():
        try:
            supporter_assign_service(
                viewer=request.viewer,
                client=client,
                supporter=form.cleaned_data["supporter"],
                approach_note=form.cleaned_data["approach_note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s was assigned.")
                % {"name": form.cleaned_data["supporter"].user.full_name},
            )
            return redirect("cases:client", public_id=client.public_id)
    return render(
        request,
        "cases/supporter_assign.html",
        {
            "client": client,
            "form": form,
            "assignments": client_assignments(viewer=request.viewer, client=client),
        },
    )


@require_POST
def supporter_unassign(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """End a dispatch. The form names the client too: the assignment is looked up among that
    client's, which the viewer must be allowed to open (anything else is a 404)."""
    client_id = request.POST.get("client", "")
    try:
        client_public_id = UUID(client_id)
    except ValueError:
        raise Http404 from None
    client = client_get(viewer=request.viewer, public_id=client_public_id)
    assignment = next(
        (
            a
            for a in client_assignments(viewer=request.viewer, client=client)
            if a.pk == assignment_id
        ),
        None,
    )
    if assignment is None:
        raise Http404
    supporter_unassign_service(viewer=request.viewer, assignment=assignment)
    messages.success(
        request,
        _("%(name)s is no longer assigned.") % {"name": assignment.supporter.user.full_name},
    )
    return redirect("cases:client", public_id=client.public_id)


@require_POST
def visit_acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The caseworker has seen an urgent visit. Another agency's is a 404 (logged); one a
    colleague acknowledged a moment ago only says so."""
    visit = urgent_visit_get(viewer=request.viewer, public_id=public_id)
    if visit.acknowledged_at is not None:
        messages.info(
            request,
            _("The urgent visit to %(name)s had already been acknowledged.")
            % {"name": visit.client.full_name},
        )
    else:
        home_visit_acknowledge(viewer=request.viewer, visit=visit)
        messages.success(
            request,
            _("The urgent visit to %(name)s was acknowledged.") % {"name": visit.client.full_name},
        )
    next_url = request.POST.get("next", "")
    # A path of this site only, redirected to as it is: redirect() would first try it as a view
    # name, and some strings make reverse() raise (a 500) instead of failing to match.
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(next_url)
    return redirect("cases:client", public_id=visit.client.public_id)


# --- The supporter's side (a phone at the door) ---------------------------------------------


@require_GET
def my_households(request: HttpRequest) -> HttpResponse:
    assignments = supporter_assignments(viewer=request.viewer)  # a 404 for anyone else
    return render(request, "cases/my_households.html", {"assignments": assignments})


@require_http_methods(["GET", "POST"])
def my_household(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One assigned client: what the supporter may know, the visit form, their own visits."""
    assignment = supporter_assignment_get(viewer=request.viewer, client_public_id=public_id)
    client = assignment.client
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            home_visit_log(viewer=request.viewer, client=client, fields=form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if form.cleaned_data["is_urgent"]:
                messages.warning(
                    request, _("The visit was recorded. The caseworker sees the urgent flag now.")
                )
            else:
                messages.success(request, _("The visit was recorded."))
            return redirect("cases:my_household", public_id=client.public_id)
    return render(
        request,
        "cases/my_household.html",
        {
            "assignment": assignment,
            "client": client,
            "form": form,
            "visits": supporter_own_visits(viewer=request.viewer, client=client),
        },
    )
