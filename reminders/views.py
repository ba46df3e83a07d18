"""The notification centre (the list, mark one read and go to it, mark all read), a person's
delivery preference, and an agency's reminder settings."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.sessions import background_request
from agencies.selectors import agency_get_for_manage
from core.forms import add_service_errors

from . import selectors
from .forms import AgencyReminderSettingsForm, DeliveryPreferenceForm
from .models import DeliveryPreference
from .services import (
    agency_reminder_settings_update,
    delivery_preference_save,
    reminder_mark_read,
    reminders_mark_all_read,
)


@require_GET
def reminder_list(request: HttpRequest) -> HttpResponse:
    page = selectors.reminder_list(viewer=request.viewer, cursor=request.GET.get("cursor"))
    template = "reminders/reminder_list.html"
    if request.htmx:
        template += "#rows"  # "older" appends the next page in place
    return render(request, template, {"page": page})


@require_GET
@background_request  # polled every minute by the page: not activity, or no page would time out
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
    row = selectors.reminder_row(viewer=request.viewer, reminder=reminder)
    if request.htmx:
        return render(request, "reminders/reminder_list.html#row", {"row": row})
    return redirect(row.link or "reminders:list")


@require_POST
def reminder_read_all(request: HttpRequest) -> HttpResponse:
    reminders_mark_all_read(viewer=request.viewer)
    return redirect("reminders:list")


@require_http_methods(["GET", "POST"])
def delivery_preference(request: HttpRequest) -> HttpResponse:
    """A person's own choice: emails as they come or a daily digest, and none on days off."""
    preference = DeliveryPreference.objects.filter(user=request.user).first()
    form = DeliveryPreferenceForm(request.POST or None, preference=preference)
    if request.method == "POST" and form.is_valid():
        try:
            delivery_preference_save(viewer=request.viewer, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your reminder email settings were saved."))
            return redirect("reminders:preferences")
    return render(request, "reminders/preferences.html", {"form": form})


@require_http_methods(["GET", "POST"])
def agency_settings(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The agency's reminder thresholds: its roster admins and system admins (404 otherwise)."""
    agency = agency_get_for_manage(viewer=request.viewer, public_id=public_id)
    form = AgencyReminderSettingsForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        try:
            agency_reminder_settings_update(
                viewer=request.viewer, agency=agency, fields=form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The agency's reminder settings were saved."))
            return redirect("reminders:agency_settings", public_id=agency.public_id)
    return render(request, "reminders/agency_settings.html", {"agency": agency, "form": form})
