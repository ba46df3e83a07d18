"""The client's household (世帯): its address and members, from which the 8050 flag is read.

Every URL carries the client's public id: the household is reached through the client, so the
client's visibility (``cases.selectors``) decides the household's too. A member of another
household, like another agency's client, is a 404.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import add_service_errors

from ..forms.households import HouseholdForm, MemberForm
from ..models import Client, HouseholdMember
from ..permissions import can_edit_client
from ..selectors import HouseholdView, client_get, household_view
from ..services import household_member_remove, household_member_save, household_save


def _client_to_edit(request: HttpRequest, public_id: UUID) -> Client:
    client = client_get(viewer=request.viewer, public_id=public_id)
    if not can_edit_client(request.viewer, client):
        raise PermissionDenied
    return client


def _member_get(
    request: HttpRequest, client: Client, member_id: int
) -> tuple[HouseholdView, HouseholdMember]:
    # Looked up among the client's own household's members: any other id is a 404.
    view = household_view(viewer=request.viewer, client=client)
    member = next((m for m in view.members if m.id == member_id), None) if view else None
    if member is None:
        raise Http404
    return view, member


@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Record the client's household (the client becomes its first member) or change it."""
    client = _client_to_edit(request, public_id)
    household = client.household
    # A new household usually lives where the client does.
    source = household or client
    form = HouseholdForm(
        request.POST if request.method == "POST" else None,
        initial={
            "postal_code": source.postal_code,
            "address": source.address,
            "note": household.note if household else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            household_save(viewer=request.viewer, client=client, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if household is None:
                messages.success(request, _("The household was recorded. Now add its members."))
            else:
                messages.success(request, _("The household was saved."))
            return redirect("cases:client", public_id=client.public_id)
    context = {
        "client": client,
        "form": form,
        "household_view": household_view(viewer=request.viewer, client=client),
    }
    return render(request, "cases/household_form.html", context)


def _member_form(
    request: HttpRequest, client: Client, view: HouseholdView, member: HouseholdMember | None
) -> HttpResponse:
    taken = [m.client for m in view.members if m.client_id and m != member]
    form = MemberForm(
        request.POST if request.method == "POST" else None,
        viewer=request.viewer,
        client=client,
        member=member,
        taken_clients=taken,
    )
    if request.method == "POST" and form.is_valid():
        try:
            household_member_save(
                viewer=request.viewer,
                client=client,
                member=member,
                fields=form.service_fields(),
                member_client=form.chosen_client(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if member is None:
                messages.success(request, _("The member was added to the household."))
            else:
                messages.success(request, _("The household member was saved."))
            return redirect("cases:client", public_id=client.public_id)
    context = {"client": client, "member": member, "form": form, "household_view": view}
    return render(request, "cases/member_form.html", context)


@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = _client_to_edit(request, public_id)
    view = household_view(viewer=request.viewer, client=client)
    if view is None:
        messages.info(request, _("Record the household first; then add its members."))
        return redirect("cases:household_edit", public_id=client.public_id)
    return _member_form(request, client, view, member=None)


@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, public_id: UUID, member_id: int) -> HttpResponse:
    client = _client_to_edit(request, public_id)
    view, member = _member_get(request, client, member_id)
    return _member_form(request, client, view, member=member)


@require_POST
def member_remove(request: HttpRequest, public_id: UUID, member_id: int) -> HttpResponse:
    client = _client_to_edit(request, public_id)
    _view, member = _member_get(request, client, member_id)
    try:
        household_member_remove(viewer=request.viewer, client=client, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The member was removed from the household."))
    return redirect("cases:client", public_id=client.public_id)
