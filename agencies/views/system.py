"""System administration: agencies, municipalities and networks of the whole installation."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import add_service_errors

from ..forms import AgencyForm, MunicipalityCorrectionForm, NetworkForm
from ..permissions import can_administer_installation
from ..selectors import (
    agency_list_for_system,
    municipality_get_for_system,
    network_get_for_system,
)
from ..selectors import (
    municipality_list as municipality_list_selector,
)
from ..selectors import (
    network_list as network_list_selector,
)
from ..services import agency_create as agency_create_service
from ..services import municipality_correct, network_save


def _require_system_admin(request: HttpRequest) -> None:
    if not can_administer_installation(request.viewer):
        raise Http404


@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    page = agency_list_for_system(viewer=request.viewer, text=text, cursor=request.GET.get("after"))
    return render(request, "agencies/system/agencies.html", {"page": page, "q": text})


@require_http_methods(["GET", "POST"])
def agency_create(request: HttpRequest) -> HttpResponse:
    _require_system_admin(request)
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agency = agency_create_service(
                viewer=request.viewer,
                fields=form.service_fields(),
                service_area=list(form.cleaned_data["service_area"]),
                functions=form.cleaned_data["functions"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The agency %(name)s was created.") % {"name": agency.name})
            return redirect("agencies:manage", public_id=agency.public_id)
    return render(request, "agencies/profile_form.html", {"agency": None, "form": form})


@require_GET
def municipality_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    page = municipality_list_selector(
        viewer=request.viewer, text=text, cursor=request.GET.get("after")
    )
    return render(request, "agencies/system/municipalities.html", {"page": page, "q": text})


@require_http_methods(["GET", "POST"])
def municipality_edit(request: HttpRequest, code: str) -> HttpResponse:
    municipality = municipality_get_for_system(viewer=request.viewer, code=code)
    form = MunicipalityCorrectionForm(
        request.POST or None,
        initial={"kind": municipality.kind, "has_welfare_office": municipality.has_welfare_office},
    )
    if request.method == "POST" and form.is_valid():
        try:
            municipality_correct(
                viewer=request.viewer, municipality=municipality, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s was corrected.") % {"name": municipality})
            return redirect("agencies:system_municipalities")
    return render(
        request,
        "agencies/system/municipality_form.html",
        {"municipality": municipality, "form": form},
    )


@require_GET
def network_list(request: HttpRequest) -> HttpResponse:
    networks = network_list_selector(viewer=request.viewer)
    return render(request, "agencies/system/networks.html", {"networks": networks})


def _network_form(request: HttpRequest, network) -> HttpResponse:
    form = NetworkForm(request.POST or None, instance=network)
    if request.method == "POST" and form.is_valid():
        try:
            network_save(
                viewer=request.viewer,
                network=network,
                fields=form.service_fields(),
                members=list(form.cleaned_data["members"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The network was saved."))
            return redirect("agencies:system_networks")
    return render(request, "agencies/system/network_form.html", {"network": network, "form": form})


@require_http_methods(["GET", "POST"])
def network_create(request: HttpRequest) -> HttpResponse:
    _require_system_admin(request)
    return _network_form(request, None)


@require_http_methods(["GET", "POST"])
def network_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _network_form(
        request, network_get_for_system(viewer=request.viewer, public_id=public_id)
    )
