"""Opening, changing, moving, closing and reopening a case."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import add_service_errors

from ..forms.cases import CaseCloseForm, CaseForm, CaseReopenForm, StageMoveForm
from ..selectors import case_get, client_get
from ..services import case_close as case_close_service
from ..services import case_move_stage, case_update
from ..services import case_open as case_open_service
from ..services import case_reopen as case_reopen_service


@require_http_methods(["GET", "POST"])
def case_open(request: HttpRequest, public_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=public_id)
    form = CaseForm(
        request.POST or None,
        agency=client.agency,
        initial={"primary_worker": request.user, "main_topic": None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            case_open_service(viewer=request.viewer, client=client, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The case was opened."))
            return redirect("cases:client", public_id=client.public_id)
    return render(request, "cases/case_form.html", {"form": form, "client": client, "case": None})


@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = case_get(viewer=request.viewer, public_id=public_id)
    form = CaseForm(request.POST or None, instance=case, agency=case.agency)
    if request.method == "POST" and form.is_valid():
        try:
            case_update(viewer=request.viewer, case=case, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("cases:client", public_id=case.client.public_id)
    return render(
        request, "cases/case_form.html", {"form": form, "client": case.client, "case": case}
    )


def _case_step(request, public_id, form_class, service, template, success, **service_kwargs):
    case = case_get(viewer=request.viewer, public_id=public_id)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["on"] = data.pop("moved_on")
        try:
            service(viewer=request.viewer, case=case, **data, **service_kwargs)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect("cases:client", public_id=case.client.public_id)
    return render(request, template, {"form": form, "case": case, "client": case.client})


@require_http_methods(["GET", "POST"])
def case_stage(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_step(
        request,
        public_id,
        StageMoveForm,
        case_move_stage,
        "cases/case_step_form.html",
        _("The stage was changed."),
    )


@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_step(
        request,
        public_id,
        CaseCloseForm,
        case_close_service,
        "cases/case_step_form.html",
        _("The case was closed."),
    )


@require_http_methods(["GET", "POST"])
def case_reopen(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_step(
        request,
        public_id,
        CaseReopenForm,
        case_reopen_service,
        "cases/case_step_form.html",
        _("The case was reopened."),
    )
