"""支援会議 screens: the councils of the viewer's agency, a council with its members and
sessions, a session with its agenda and minutes, and the forms that change them.

Councils and sessions come through ``councils.selectors``: anyone who is not on a member
agency's staff (or a system admin) gets a 404, as does a member without the right to the form
asked for. Every change is one service call, POST only; a refusal is shown on the same form with
what was typed kept.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.views.clients import section_view
from consent.gate import NOT_CONSENTED, Basis
from core.forms import add_service_errors

from . import services
from .forms import (
    AgendaItemForm,
    CouncilCreateForm,
    CouncilEditForm,
    CouncilEndForm,
    MemberAddForm,
    MinutesForm,
    SessionForm,
)
from .models import CouncilSession, SupportCouncil
from .permissions import (
    can_list_councils,
    can_put_on_agenda,
    can_run_council,
    can_set_up_councils,
    can_take_off_agenda,
    can_write_minutes,
    is_sharing,
)
from .selectors import (
    agenda_item_get,
    agenda_items_for_client,
    council_get,
    council_list,
    council_members,
    council_sessions,
    minutes_for,
    session_agenda,
    session_get,
)


def _require_set_up(request: HttpRequest) -> None:
    if not can_set_up_councils(request.viewer):
        raise Http404


def _require_running(request: HttpRequest, council: SupportCouncil) -> None:
    if not can_run_council(request.viewer, council):
        raise Http404


@require_GET
def council_list_view(request: HttpRequest) -> HttpResponse:
    viewer = request.viewer
    if not can_list_councils(viewer):
        raise Http404
    return render(
        request,
        "councils/council_list.html",
        {
            "councils": council_list(viewer=viewer),
            "can_set_up": can_set_up_councils(viewer),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def council_create(request: HttpRequest) -> HttpResponse:
    _require_set_up(request)
    form = CouncilCreateForm(request.POST or None, initial={"established_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            council = services.council_create(viewer=request.viewer, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The support council was set up. Now add its members."))
            return redirect("councils:detail", public_id=council.public_id)
    return render(request, "councils/council_form.html", {"form": form, "council": None})


@require_http_methods(["GET", "POST"])
def council_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    _require_set_up(request)
    council, _members = council_get(viewer=request.viewer, public_id=public_id)
    form = CouncilEditForm(
        request.POST or None,
        initial={
            "name": council.name,
            "legal_basis": council.legal_basis,
            "confidentiality_note": council.confidentiality_note,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.council_update(viewer=request.viewer, council=council, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("councils:detail", public_id=council.public_id)
    return render(request, "councils/council_form.html", {"form": form, "council": council})


def _council_page(
    request: HttpRequest,
    council: SupportCouncil,
    members: frozenset[int],
    end_form: CouncilEndForm | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = request.viewer
    return render(
        request,
        "councils/council_detail.html",
        {
            "council": council,
            "members": council_members(council=council),
            "member_ids": members,
            "sessions": council_sessions(council=council),
            "can_run": can_run_council(viewer, council),
            "can_set_up": can_set_up_councils(viewer),
            "end_form": end_form or CouncilEndForm(initial={"ended_on": timezone.localdate()}),
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_GET
def council_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    council, members = council_get(viewer=request.viewer, public_id=public_id)
    return _council_page(request, council, members)


@require_POST
def council_end(request: HttpRequest, public_id: UUID) -> HttpResponse:
    _require_set_up(request)
    council, members = council_get(viewer=request.viewer, public_id=public_id)
    form = CouncilEndForm(request.POST)
    if form.is_valid():
        try:
            services.council_end(
                viewer=request.viewer, council=council, on=form.cleaned_data["ended_on"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The support council was ended."))
            return redirect("councils:detail", public_id=council.public_id)
    return _council_page(request, council, members, end_form=form)


@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    council, members = council_get(viewer=request.viewer, public_id=public_id)
    _require_running(request, council)
    form = MemberAddForm(
        request.POST or None,
        council=council,
        member_ids=members,
        initial={"joined_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.council_member_add(
                viewer=request.viewer,
                council=council,
                agency=form.cleaned_data["agency"],
                joined_on=form.cleaned_data["joined_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The agency was added to the council."))
            return redirect(reverse("councils:detail", args=[council.public_id]) + "#members")
    return render(request, "councils/member_form.html", {"form": form, "council": council})


@require_POST
def member_leave(request: HttpRequest, public_id: UUID, member_id: int) -> HttpResponse:
    council, _members = council_get(viewer=request.viewer, public_id=public_id)
    _require_running(request, council)
    member = council.members.select_related("agency").filter(pk=member_id).first()
    if member is None:
        raise Http404
    try:
        services.council_member_leave(viewer=request.viewer, member=member)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(agency)s has left the council: it sees nothing more of its agenda.")
            % {"agency": member.agency.name},
        )
    return redirect(reverse("councils:detail", args=[council.public_id]) + "#members")


@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    council, _members = council_get(viewer=request.viewer, public_id=public_id)
    _require_running(request, council)
    form = SessionForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            session = services.council_session_create(
                viewer=request.viewer, council=council, **form.service_kwargs()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The session was created. Members may now add people."))
            return redirect("councils:session", public_id=session.public_id)
    return render(
        request, "councils/session_form.html", {"form": form, "council": council, "session": None}
    )


@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    session, _members = session_get(viewer=request.viewer, public_id=public_id)
    _require_running(request, session.council)
    form = SessionForm(
        request.POST or None,
        initial={
            "held_on": session.held_on,
            "title": session.title,
            "sharing_from": session.sharing_from,
            "sharing_until": session.sharing_until,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.council_session_update(
                viewer=request.viewer, session=session, **form.service_kwargs()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("councils:session", public_id=session.public_id)
    return render(
        request,
        "councils/session_form.html",
        {"form": form, "council": session.council, "session": session},
    )


def _session_page(
    request: HttpRequest,
    session: CouncilSession,
    members: frozenset[int],
    agenda_form: AgendaItemForm | None = None,
) -> HttpResponse:
    viewer = request.viewer
    may_add = can_put_on_agenda(viewer, session, members)
    if may_add and agenda_form is None:
        agenda_form = AgendaItemForm(viewer=viewer, initial={"client": request.GET.get("client")})
    rows = session_agenda(
        viewer=viewer,
        session=session,
        page=request.resolver_match.view_name,
        path=request.path,
    )
    if may_add:
        # The picker leaves out the agency's clients already on the agenda (posted anyway, the
        # service says so on the form).
        agenda_form.fields["client"].pick_excluding(
            row.item.client for row in rows if not row.withdrawn and row.access.is_holder
        )
    return render(
        request,
        "councils/session_detail.html",
        {
            "session": session,
            "council": session.council,
            "active_rows": [row for row in rows if not row.withdrawn],
            "withdrawn_rows": [row for row in rows if row.withdrawn],
            "withdrawable": {row.item.pk for row in rows if can_take_off_agenda(viewer, row.item)},
            "can_run": can_run_council(viewer, session.council),
            "can_write_minutes": can_write_minutes(viewer, session, members),
            # None: the viewer may not read them; the page says only whether there are any.
            "minutes": minutes_for(viewer=viewer, session=session, member_ids=members),
            "has_minutes": bool(session.minutes),
            "agenda_form": agenda_form if may_add else None,
            "not_consented": NOT_CONSENTED,
            "emergency_label": Basis.LABELS[Basis.EMERGENCY],
            "sharing_now": is_sharing(session),
            "today": timezone.localdate(),
        },
    )


@require_GET
def session_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    session, members = session_get(viewer=request.viewer, public_id=public_id)
    return _session_page(request, session, members)


@require_http_methods(["GET", "POST"])
def agenda_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Put one of the agency's clients on the agenda (GET: the session page with the form)."""
    session, members = session_get(viewer=request.viewer, public_id=public_id)
    if not can_put_on_agenda(request.viewer, session, members):
        raise Http404
    if request.method == "GET":
        return _session_page(request, session, members)
    form = AgendaItemForm(request.POST, viewer=request.viewer)
    if form.is_valid():
        try:
            services.agenda_item_add(
                viewer=request.viewer, session=session, **form.service_kwargs()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The person was put on the agenda."))
            return redirect(reverse("councils:session", args=[session.public_id]) + "#agenda")
    return _session_page(request, session, members, agenda_form=form)


@require_POST
def agenda_withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = agenda_item_get(viewer=request.viewer, public_id=public_id)
    if not can_take_off_agenda(request.viewer, item):
        raise Http404
    try:
        services.agenda_item_withdraw(viewer=request.viewer, item=item)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The person was taken off the agenda: nothing more is shared."))
    return redirect(reverse("councils:session", args=[item.session.public_id]) + "#agenda")


@require_http_methods(["GET", "POST"])
def session_minutes(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The secretariat writes the minutes. Whoever runs the council opens this page, but the
    form (and the minutes in it) only while they may read them: never a system admin, never
    outside the session's sharing dates; the page says why instead."""
    session, members = session_get(viewer=request.viewer, public_id=public_id)
    _require_running(request, session.council)
    may_write = can_write_minutes(request.viewer, session, members)
    form = None
    if may_write:
        form = MinutesForm(request.POST or None, initial={"minutes": session.minutes})
    if may_write and request.method == "POST" and form.is_valid():
        try:
            services.council_minutes_save(
                viewer=request.viewer, session=session, minutes=form.cleaned_data["minutes"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The minutes were saved."))
            return redirect(reverse("councils:session", args=[session.public_id]) + "#minutes")
    return render(
        request,
        "councils/minutes_form.html",
        {
            "form": form,
            "session": session,
            "council": session.council,
            "has_minutes": bool(session.minutes),
        },
    )


client_councils_section = section_view("councils", "council_items", agenda_items_for_client)
