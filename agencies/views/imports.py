"""System import page: upload the municipality list or an agency CSV, download both."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from ..forms_imports import CsvUploadForm
from ..imports import agencies_export, agencies_import, municipalities_export, municipalities_import
from ..permissions import is_system_admin

# name -> (service, heading); the name is also the form prefix and the hidden "import" value.
IMPORTS = {
    "municipalities": (municipalities_import, _("Municipalities")),
    "agencies": (agencies_import, _("Agencies")),
}


def _require_system_admin(request: HttpRequest) -> None:
    # Anyone else is told nothing, not even that the page exists.
    if not is_system_admin(request.user):
        raise Http404


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Both upload forms; a POST shows its report on the same page.

    No redirect after the POST: the report lives only in this response, and sending the same
    file again is harmless because both imports write nothing the second time.
    """
    _require_system_admin(request)
    posted = request.POST.get("import") if request.method == "POST" else None
    forms = {
        name: CsvUploadForm(
            request.POST if name == posted else None,
            request.FILES if name == posted else None,
            prefix=name,
        )
        for name in IMPORTS
    }
    report = None
    if posted in forms and forms[posted].is_valid():
        service, _heading = IMPORTS[posted]
        report = service(actor=request.user, data=forms[posted].file_bytes())
    sections = [
        {
            "name": name,
            "heading": heading,
            "form": forms[name],
            "export_url": reverse(f"agencies:system_export_{name}"),
        }
        for name, (_service, heading) in IMPORTS.items()
    ]
    return render(
        request,
        "agencies/system/import.html",
        {
            "sections": sections,
            "report": report,
            "report_heading": IMPORTS[posted][1] if report else None,
        },
    )


@require_GET
def export_municipalities(request: HttpRequest) -> HttpResponse:
    _require_system_admin(request)
    return _csv_download(municipalities_export(), "municipalities")


@require_GET
def export_agencies(request: HttpRequest) -> HttpResponse:
    _require_system_admin(request)
    return _csv_download(agencies_export(), "agencies")


def _csv_download(text: str, stem: str) -> HttpResponse:
    # With the BOM Excel reads the UTF-8 as UTF-8 (without it, as Shift_JIS: every Japanese
    # cell garbled); both imports accept it.
    response = HttpResponse(
        ("\ufeff" + text).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    filename = f"{stem}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
