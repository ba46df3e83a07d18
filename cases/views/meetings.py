"""支援調整会議 (support coordination meetings): the agency's list, the record with its
participants and minutes, the cases discussed with what was decided for each, and the minutes
on A4.

Meetings are fetched through ``cases.selectors``: another agency's meeting is a 404, and so is
every meeting page for anyone without client work (supporters, administrative staff, system
admins).
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import add_service_errors

from ..forms.meetings import MeetingCaseForm, MeetingForm
from ..models import Decision, Meeting, MeetingCase
from ..permissions import can_work_with_clients
from ..selectors import meeting_get
from ..selectors import meeting_list as meeting_list_selector
from ..services import meeting_case_record, meeting_save

CASE_FORM_PARTIAL = "cases/meeting_detail.html#case-form"


def _require_client_work(request: HttpRequest) -> None:
    if not can_work_with_clients(request.viewer):
        raise Http404


@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    _require_client_work(request)
    meetings = meeting_list_selector(viewer=request.viewer)
    return render(request, "cases/meeting_list.html", {"meetings": meetings})


@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    _require_client_work(request)
    form = MeetingForm(
        request.POST or None,
        agency=request.viewer.agency,
        initial={"held_on": timezone.localdate(), "participant_users": [request.user.pk]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meeting_save(viewer=request.viewer, meeting=None, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The meeting was recorded. Now add the cases discussed."))
            return redirect("cases:meeting", public_id=meeting.public_id)
    return render(request, "cases/meeting_form.html", {"form": form, "meeting": None})


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    meeting = meeting_get(viewer=request.viewer, public_id=public_id)
    form = MeetingForm(request.POST or None, instance=meeting, agency=meeting.agency)
    if request.method == "POST" and form.is_valid():
        try:
            meeting_save(viewer=request.viewer, meeting=meeting, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("cases:meeting", public_id=meeting.public_id)
    return render(request, "cases/meeting_form.html", {"form": form, "meeting": meeting})


def _detail(request: HttpRequest, meeting: Meeting, form: MeetingCaseForm) -> HttpResponse:
    return render(
        request,
        "cases/meeting_detail.html",
        {"meeting": meeting, "items": meeting.case_items.all(), "form": form},
    )


@require_GET
def meeting_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    meeting = meeting_get(viewer=request.viewer, public_id=public_id)
    return _detail(request, meeting, MeetingCaseForm(viewer=request.viewer))


def _item_initial(meeting: Meeting, case_id: str | None) -> dict:
    """What was recorded already for the case at this meeting, to change it."""
    item: MeetingCase | None = next(
        (i for i in meeting.case_items.all() if str(i.case.public_id) == case_id), None
    )
    if item is None:
        return {}
    return {
        "plan": item.plan.public_id if item.plan else None,
        "decisions": item.decisions,
        "next_review_on": item.next_review_on,
        "note": item.note,
    }


@require_http_methods(["GET", "POST"])
def meeting_case(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Add a case discussed at the meeting, or change what was recorded for it.

    GET ?case=… answers the form for that case (its plan versions to choose from); with htmx,
    the form alone, which the page swaps in when the case is chosen.
    """
    meeting = meeting_get(viewer=request.viewer, public_id=public_id)
    if request.method == "GET":
        case_id = request.GET.get("case")
        form = MeetingCaseForm(
            viewer=request.viewer, case_id=case_id, initial=_item_initial(meeting, case_id)
        )
        if request.htmx:
            return render(request, CASE_FORM_PARTIAL, {"meeting": meeting, "form": form})
        return _detail(request, meeting, form)
    form = MeetingCaseForm(request.POST, viewer=request.viewer)
    if form.is_valid():
        try:
            item = meeting_case_record(
                viewer=request.viewer, meeting=meeting, **form.service_kwargs()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if Decision.PLAN_APPROVED in item.decisions and item.plan is not None:
                messages.success(
                    request, _("Plan version %(version)s approved") % {"version": item.plan.version}
                )
            else:
                messages.success(request, _("What was decided for the case was recorded."))
            url = reverse("cases:meeting", kwargs={"public_id": meeting.public_id})
            return redirect(f"{url}#cases")
    return _detail(request, meeting, form)


@require_GET
def meeting_print(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The minutes on A4, for the file and for the participants: no navigation, print CSS."""
    meeting = meeting_get(viewer=request.viewer, public_id=public_id)
    return render(
        request,
        "cases/meeting_print.html",
        {"meeting": meeting, "items": meeting.case_items.all(), "printed_on": timezone.localdate()},
    )
