from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..selectors import agency_pick


@require_GET
def agency_pick_view(request: HttpRequest, purpose: str) -> HttpResponse:
    """The agency picker's options for what was typed (``q``), limited to what ``purpose``
    lets this viewer choose."""
    text = request.GET.get("q", "")
    result = agency_pick(viewer=request.viewer, purpose=purpose, params=request.GET, text=text)
    context = {
        "result": result,
        "text": text,
        "key": "pk" if request.GET.get("key") == "pk" else "public_id",
        "target": (request.htmx.target if request.htmx else None) or "agency-pick",
    }
    return render(request, "agencies/_pick_results.html", context)
