from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..forms import DirectoryFilterForm
from ..selectors import DirectoryQuery, agency_directory, agency_get_for_directory


@require_GET
def directory_page(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    query = DirectoryQuery()
    if form.is_bound and form.is_valid():
        query = DirectoryQuery(
            text=form.cleaned_data["q"],
            kind=form.cleaned_data["kind"],
            function=form.cleaned_data["function"],
            area=form.area(),
            area_scope=form.cleaned_data["area_scope"] or "serving",
            receives_referrals=True if form.cleaned_data["receives_referrals"] else None,
        )
    page = agency_directory(viewer=request.viewer, query=query, cursor=request.GET.get("after"))
    params = request.GET.copy()
    params.pop("after", None)
    context = {"form": form, "page": page, "params": params.urlencode()}
    template = "agencies/directory.html"
    if request.htmx and request.htmx.target == "municipality-field":
        template += "#municipality_field"
    elif request.htmx:
        template += "#results"
    return render(request, template, context)


@require_GET
def detail_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    agency = agency_get_for_directory(viewer=request.viewer, public_id=public_id)
    return render(request, "agencies/detail.html", {"agency": agency})
