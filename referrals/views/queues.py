"""The supervisors' referral queues: received (incoming) and sent (outgoing) by the current
agency, one status at a time, waiting longest first, with the age in business days; assigning a
worker to one or many received referrals at once.

Incoming and assigning: supervisors. Outgoing: caseworkers and supervisors of the agency. Anyone
else gets a 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from agencies.permissions import can_review_queues

from ..forms import AssignForm, QueueFilterForm, worker_choices
from ..models import ReferralType
from ..selectors import (
    ASSIGNABLE_STATUSES,
    COUNT_CAP,
    INCOMING,
    OUTGOING,
    QueueQuery,
    may_view_queue,
    queue_workers,
    referral_queue,
    referrals_for_assign,
)
from ..services import referral_assign


def _tabs(request: HttpRequest, queue) -> list[dict]:
    """One link per status, keeping the other filters and starting from the first page."""
    tabs = []
    for count in queue.counts:
        params = request.GET.copy()
        params.pop("after", None)
        params.pop("overdue", None)
        params["status"] = count.status
        tabs.append(
            {
                "status": count.status,
                "label": count.label,
                "count": count.count,
                "capped": count.capped,
                "active": count.status == queue.query.status,
                "query": params.urlencode(),
            }
        )
    return tabs


def _queue_page(request: HttpRequest, direction: str) -> HttpResponse:
    """Queries, whatever the number of referrals: 1 session, 2 user, 3 membership + agency,
    4 the agency's workers, 5 the capped count per status, 6 the page of referrals."""
    viewer = request.viewer
    if not may_view_queue(viewer, direction):
        raise Http404
    workers = queue_workers(viewer=viewer)
    form = QueueFilterForm(request.GET or None, direction=direction, workers=workers)
    query = form.query() if form.is_bound else QueueQuery()
    queue = referral_queue(
        viewer=viewer,
        direction=direction,
        query=query,
        cursor=request.GET.get("after"),
        workers=workers,
    )
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "queue": queue,
        "form": form,
        "tabs": _tabs(request, queue),
        "params": params.urlencode(),
        "count_cap": COUNT_CAP,
        "may_assign": direction == INCOMING and can_review_queues(viewer),
        "assignable": ASSIGNABLE_STATUSES,
        "worker_choices": worker_choices(workers),
        "incoming": direction == INCOMING,
        "introduction": ReferralType.INTRODUCTION,
    }
    template = "referrals/queue.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@require_GET
def incoming(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, INCOMING)


@require_GET
def outgoing(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, OUTGOING)


def _back_to_queue(request: HttpRequest) -> str:
    url = request.POST.get("next", "")
    # A path: redirect() takes a string without a slash for a view name, and fails with a 500.
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("referrals:incoming")


@require_POST
def assign(request: HttpRequest) -> HttpResponse:
    """Assign (or reassign) the ticked referrals to one worker, then back to the same view."""
    viewer = request.viewer
    if not can_review_queues(viewer):
        raise Http404
    back = _back_to_queue(request)
    workers = queue_workers(viewer=viewer)
    form = AssignForm(request.POST, workers=workers)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    referrals = referrals_for_assign(viewer=viewer, public_ids=form.cleaned_data["referral"])
    if any(r.status not in ASSIGNABLE_STATUSES for r in referrals):
        messages.error(request, _("Only referrals still open can be assigned."))
        return redirect(back)
    assignee = form.workers[form.cleaned_data["assignee"]]
    try:
        count = referral_assign(viewer=viewer, referrals=referrals, assignee=assignee)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "%(count)d referral assigned to %(name)s.",
            "%(count)d referrals assigned to %(name)s.",
            count,
        )
        % {"count": count, "name": assignee.full_name},
    )
    return redirect(back)
