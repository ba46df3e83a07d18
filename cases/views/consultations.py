"""The consultation log (支援経過記録): quick entry, the record with its edit history, corrections.

Records are fetched through ``cases.selectors``: another agency's case or record is a 404.
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import add_service_errors

from ..forms.consultations import ConsultationCorrectionForm, QuickConsultationForm
from ..models import Consultation, Method
from ..selectors import case_get, consultation_get
from ..services import CONSULTATION_FIELDS, consultation_correct, consultation_log

QUICK_PARTIAL = "cases/_quick_consultation.html"


@require_http_methods(["GET", "POST"])
def consultation_new(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The quick entry for a case. With htmx it answers with the partial alone, so the client
    page and the dashboard embed it: on success a fresh form, the message and an
    ``HX-Trigger: consultation-logged`` for the page to refresh what shows the record."""
    case = case_get(viewer=request.viewer, public_id=public_id)
    post = request.POST if request.method == "POST" else None
    form = QuickConsultationForm.for_case(case, request.viewer, data=post)
    logged = None
    if post is not None and form.is_valid():
        try:
            logged = consultation_log(
                viewer=request.viewer,
                case=case,
                fields=form.service_fields(),
                staff=form.staff_list(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The consultation was logged."))
                return redirect("cases:client", public_id=case.client.public_id)
            # Read the case again: the first direct contact may have just been recorded, and
            # the fresh form's defaults follow it.
            case = case_get(viewer=request.viewer, public_id=public_id)
            form = QuickConsultationForm.for_case(case, request.viewer)
    form.focus_first_error()
    context = {"case": case, "form": form, "logged": logged}
    if not request.htmx:
        return render(request, "cases/consultation_form.html", context)
    # A validation error answers 200 too: htmx swaps only 2xx answers, and the typed text must
    # come back with the message.
    response = render(request, QUICK_PARTIAL, context)
    if logged is not None:
        response["HX-Trigger"] = "consultation-logged"
    return response


@require_GET
def consultation_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    consultation = consultation_get(viewer=request.viewer, public_id=public_id)
    return render(
        request,
        "cases/consultation_detail.html",
        {
            "consultation": consultation,
            "case": consultation.case,
            "history": _history(consultation),
        },
    )


@require_http_methods(["GET", "POST"])
def consultation_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    consultation = consultation_get(viewer=request.viewer, public_id=public_id)
    post = request.POST if request.method == "POST" else None
    form = ConsultationCorrectionForm(post, consultation=consultation)
    if post is not None and form.is_valid():
        if not form.changed():
            messages.info(request, _("Nothing was changed."))
            return redirect("cases:consultation", public_id=consultation.public_id)
        try:
            consultation_correct(
                viewer=request.viewer,
                consultation=consultation,
                fields=form.service_fields(),
                staff=list(form.cleaned_data["staff"]),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The record was corrected. The earlier text is kept in its history.")
            )
            return redirect("cases:consultation", public_id=consultation.public_id)
    return render(
        request,
        "cases/consultation_form.html",
        {"form": form, "consultation": consultation, "case": consultation.case},
    )


# --- The edit history --------------------------------------------------------------------------

HISTORY_FIELDS = (*CONSULTATION_FIELDS, "staff")


def _stored(value: Any) -> Any:
    """A value in the shape ``ConsultationRevision.previous`` keeps it (see
    ``services.consultation_correct``): dates and times as ISO text, related rows as text."""
    if value is None or isinstance(value, str | int | bool | list):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _current(consultation: Consultation) -> dict[str, Any]:
    state = {field: _stored(getattr(consultation, field)) for field in CONSULTATION_FIELDS}
    state["staff"] = sorted(str(user) for user in consultation.staff.all())
    return state


def _label(field: str) -> str:
    if field == "staff":
        return _("Staff")
    return str(Consultation._meta.get_field(field).verbose_name).capitalize()


def _shown(field: str, value: Any) -> str:
    """A stored value as a person reads it."""
    if value in (None, "", []):
        return "—"
    if field == "method":
        return str(Method(value).label) if value in Method.values else str(value)
    if field == "with_client":
        return _("Yes") if value else _("No")
    if field == "start_time":
        return str(value)[:5]
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)


def _history(consultation: Consultation) -> list[dict[str, Any]]:
    """Every correction, newest first: who, when, why, and each changed field before → after.

    A revision keeps the record as it was before that correction; what it became is the next
    newer revision's "before", or, for the newest, the record as it is now.
    """
    entries = []
    after = _current(consultation)
    for revision in consultation.revisions.all():  # newest first
        before = revision.previous
        changes = [
            {
                "field": field,
                "label": _label(field),
                "before": _shown(field, before.get(field)),
                "after": _shown(field, after.get(field)),
            }
            for field in HISTORY_FIELDS
            if before.get(field) != after.get(field)
        ]
        entries.append({"revision": revision, "changes": changes})
        after = {**after, **before}
    return entries
