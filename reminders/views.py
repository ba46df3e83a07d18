"""The notification centre: the list, mark one read (and go to it), mark all read."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import selectors
from .services import reminder_mark_read, reminders_mark_all_read


@require_GET
def reminder_list(request: HttpRequest) -> HttpResponse:
    page = selectors.reminder_list(viewer=request.viewer, cursor=request.GET.get("cursor"))
    template = "reminders/reminder_list.html"
    if request.htmx:
        template += "#rows"  # "older" appends the next page in place
    return render(request, template, {"page": page})


@require_GET
def reminder_badge(request: HttpRequest) -> HttpResponse:
    """The header's unread count, fetched by htmx after the page: the page itself spends no
    query on it (one COUNT here, none for people without an agency)."""
    return render(
        request, "reminders/_badge.html", {"unread": selectors.unread_count(viewer=request.viewer)}
    )


@require_POST
def reminder_read(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Mark read; without htmx, go on to what it is about (the case, referral, plan, consent)."""
    reminder = selectors.reminder_get(viewer=request.viewer, public_id=public_id)
    reminder_mark_read(viewer=request.viewer, reminder=reminder)
    link = selectors.reminder_link(viewer=request.viewer, reminder=reminder)
    if request.htmx:
        row = selectors.ReminderRow(reminder=reminder, link=link)
        return render(request, "reminders/reminder_list.html#row", {"row": row})
    return redirect(link or "reminders:list")


@require_POST
def reminder_read_all(request: HttpRequest) -> HttpResponse:
    reminders_mark_all_read(viewer=request.viewer)
    return redirect("reminders:list")
