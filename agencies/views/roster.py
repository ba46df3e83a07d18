"""The agency's own roster: profile, staff and supporters, kept by its roster admins."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import add_service_errors

from ..forms import AgencyForm, StaffEditForm, StaffInviteForm, SupporterProfileForm
from ..models import Role
from ..permissions import can_manage_roster, is_system_admin
from ..selectors import (
    agency_get_for_manage,
    membership_get_for_manage,
    own_supporter_membership,
    staff_list,
)
from ..services import (
    agency_update,
    staff_deactivate,
    staff_invite,
    staff_reactivate,
    staff_update,
    supporter_profile_update,
)


@require_GET
def roster_home(request: HttpRequest) -> HttpResponse:
    if can_manage_roster(request.viewer):
        return redirect("agencies:manage", public_id=request.membership.agency.public_id)
    if is_system_admin(request.user):
        return redirect("agencies:system_agencies")
    raise Http404


@require_GET
def agency_manage(request: HttpRequest, public_id: UUID) -> HttpResponse:
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    memberships = staff_list(viewer=request.viewer, agency=agency)
    return render(request, "agencies/manage.html", {"agency": agency, "memberships": memberships})


@require_http_methods(["GET", "POST"])
def agency_profile_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            agency_update(
                viewer=request.viewer,
                agency=agency,
                fields=form.service_fields(),
                service_area=list(form.cleaned_data["service_area"]),
                functions=form.cleaned_data["functions"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The agency's profile was saved."))
            return redirect("agencies:manage", public_id=agency.public_id)
    return render(request, "agencies/profile_form.html", {"agency": agency, "form": form})


@require_http_methods(["GET", "POST"])
def staff_invite_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = staff_invite(
                viewer=request.viewer,
                agency=agency,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s was added to the staff.") % {"name": membership.user.full_name},
            )
            return redirect("agencies:manage", public_id=agency.public_id)
    return render(request, "agencies/staff_invite.html", {"agency": agency, "form": form})


@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, public_id: UUID, membership_id: UUID) -> HttpResponse:
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    membership = membership_get_for_manage(
        viewer=request.viewer, agency=agency, public_id=membership_id
    )
    profile = getattr(membership, "supporter_profile", None)
    is_supporter_form = request.POST.get("form") == "supporter"
    form = StaffEditForm(
        request.POST if request.method == "POST" and not is_supporter_form else None,
        initial={"role": membership.role, "is_roster_admin": membership.is_roster_admin},
    )
    supporter_form = SupporterProfileForm(
        request.POST if is_supporter_form else None,
        initial={
            "is_peer_supporter": profile.is_peer_supporter if profile else False,
            "dispatching_municipality": profile.dispatching_municipality if profile else None,
            "training_completed_on": profile.training_completed_on if profile else None,
        },
    )
    if request.method == "POST":
        bound = supporter_form if is_supporter_form else form
        if bound.is_valid():
            try:
                if is_supporter_form:
                    supporter_profile_update(
                        viewer=request.viewer, membership=membership, **bound.cleaned_data
                    )
                else:
                    staff_update(viewer=request.viewer, membership=membership, **bound.cleaned_data)
            except ValidationError as error:
                add_service_errors(bound, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("agencies:manage", public_id=agency.public_id)
    return render(
        request,
        "agencies/staff_edit.html",
        {
            "agency": agency,
            "membership": membership,
            "form": form,
            "supporter_form": supporter_form if membership.role == Role.SUPPORTER else None,
        },
    )


def _toggle(request, public_id, membership_id, service, message) -> HttpResponse:
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    membership = membership_get_for_manage(
        viewer=request.viewer, agency=agency, public_id=membership_id
    )
    try:
        service(viewer=request.viewer, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, message % {"name": membership.user.full_name})
    return redirect("agencies:manage", public_id=agency.public_id)


@require_POST
def staff_deactivate_view(request: HttpRequest, public_id: UUID, membership_id: UUID):
    return _toggle(
        request,
        public_id,
        membership_id,
        staff_deactivate,
        _("%(name)s was deactivated and signed out everywhere."),
    )


@require_POST
def staff_reactivate_view(request: HttpRequest, public_id: UUID, membership_id: UUID):
    return _toggle(
        request, public_id, membership_id, staff_reactivate, _("%(name)s was reactivated.")
    )


@require_GET
def my_supporter_profile(request: HttpRequest) -> HttpResponse:
    membership = own_supporter_membership(viewer=request.viewer)
    return render(request, "agencies/my_supporter_profile.html", {"membership": membership})
