"""The consent screens: recording a consent (also as the "record the missing consent" step of
the referral form), a consent's page with its withdrawal, and the download of the signed form.

Consents are fetched through ``consent.selectors`` (the client's scope): another agency's
consent is a 404. Every change is one service call; a refusal is shown on the same form with
what was typed kept.
"""

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.permissions import is_supervisor_of
from cases.selectors import client_get
from cases.views.clients import section_view
from core.forms import add_service_errors

from . import scans, services
from .forms import (
    ConsentForm,
    ConsentWithdrawForm,
    EmergencyDisclosureForm,
    EmergencyReviewForm,
)
from .models import Consent, EmergencyDisclosure, Purpose
from .permissions import can_review_emergency, must_leave_review_to_another
from .selectors import (
    ConsentStatus,
    client_consents,
    client_emergency_disclosures,
    consent_get,
    consent_recipients,
    emergency_get,
    emergency_overview,
)
from .uploads import FileSizeLimitHandler, limit_uploads


def _safe_next(request: HttpRequest) -> str:
    """Where to go back to after saving (the referral draft being written), if it is ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    # A path: redirect() takes a string without a slash for a view name, and fails with a 500.
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@csrf_exempt  # the token is checked by _consent_new, once the scan's limit is in place
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """Record a consent of the client. From the referral form it arrives with ``next`` (the
    saved draft), ``recipient``, ``purpose`` and the missing ``category`` values, and goes back
    to the draft afterwards: what the worker typed there is in the draft, nothing is lost.

    The scan is stopped while it streams in once it passes its limit (consent.uploads). The
    handler must be set before the body is read, and CSRF protection reads it (the token is a
    field): so the view is exempt from the middleware's check and makes it itself, after."""
    limit = limit_uploads(request)
    return _consent_new(request, client_id, limit)


@csrf_protect
def _consent_new(
    request: HttpRequest, client_id: UUID, limit: FileSizeLimitHandler
) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=client_id)
    next_url = _safe_next(request)
    purpose = request.GET.get("purpose")
    posted = request.method == "POST"
    # The body is read from here on (csrf_protect read it already): the limit knows if it
    # stopped the scan.
    data, files = (request.POST, request.FILES) if posted else (None, None)
    form = ConsentForm(
        data,
        files,
        recipients=consent_recipients(viewer=request.viewer),
        validity_days=request.viewer.agency.consent_validity_days,
        scan_refused=scans.too_large_error() if limit.exceeded else None,
        initial={
            "recipient": request.GET.get("recipient"),
            "purpose": purpose if purpose in Purpose.values else Purpose.TSUNAGI,
            "categories": request.GET.getlist("category"),
        },
    )
    if posted and form.is_valid():
        try:
            services.consent_record(viewer=request.viewer, client=client, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The consent was recorded."))
            if next_url:
                return redirect(next_url)
            return redirect(reverse("cases:client", args=[client.public_id]) + "#consents")
    return render(
        request,
        "consent/consent_form.html",
        {"client": client, "form": form, "next": next_url},
    )


def _detail(
    request: HttpRequest, consent: Consent, form: ConsentWithdrawForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "consent/consent_detail.html",
        {
            "consent": consent,
            "client": consent.client,
            "withdraw_form": form,
            "can_withdraw": consent.status == ConsentStatus.VALID,
            # A withdrawal does not end an emergency disclosure to the same agency: say so.
            "emergencies": list(
                EmergencyDisclosure.objects.active_at().filter(
                    client=consent.client, recipient_id=consent.recipient_id
                )
            ),
        },
        status=status,
    )


@require_GET
def consent_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    consent = consent_get(viewer=request.viewer, public_id=public_id)
    return _detail(request, consent, ConsentWithdrawForm())


@require_POST
def consent_withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The person withdrew their consent: from that day nothing more crosses on it."""
    consent = consent_get(viewer=request.viewer, public_id=public_id)
    form = ConsentWithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.consent_withdraw(
                viewer=request.viewer,
                consent=consent,
                how=form.cleaned_data["how"],
                on=form.cleaned_data["on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The withdrawal was recorded."))
            return redirect("consent:detail", public_id=consent.public_id)
    return _detail(request, consent, form)


@require_GET
def consent_scan(request: HttpRequest, public_id: UUID) -> FileResponse:
    """The scan of the signed form, as a download, to the holding agency's caseworkers and
    supervisors only (anyone else gets a 404 from the selector). The file has no public
    address; it leaves storage only through here."""
    consent = consent_get(viewer=request.viewer, public_id=public_id)
    if not consent.scan:
        raise Http404
    suffix = consent.scan.name.rsplit(".", 1)[-1].lower()
    try:
        handle = consent.scan.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    return FileResponse(
        handle,
        as_attachment=True,
        # The name says nothing about the person: a saved copy does not reveal whose it is.
        filename=f"consent-{consent.obtained_on:%Y%m%d}-{str(consent.public_id)[:8]}.{suffix}",
    )


# --- Emergency disclosures (個人情報保護法 27条1項2号) ------------------------------------------


@require_http_methods(["GET", "POST"])
def emergency_new(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=client_id)
    form = EmergencyDisclosureForm(
        request.POST or None, recipients=consent_recipients(viewer=request.viewer)
    )
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = services.emergency_disclose(
                viewer=request.viewer, client=client, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.warning(
                request,
                _("The emergency disclosure was recorded; your supervisors have been told."),
            )
            return redirect("consent:emergency_detail", public_id=disclosure.public_id)
    return render(
        request,
        "consent/emergency_form.html",
        {"client": client, "form": form, "hours": settings.EMERGENCY_DISCLOSURE_HOURS},
    )


def _emergency_page(
    request: HttpRequest, disclosure, review_form: EmergencyReviewForm | None = None
) -> HttpResponse:
    viewer = request.viewer
    pending = disclosure.reviewed_at is None
    can_review = can_review_emergency(viewer, disclosure)
    return render(
        request,
        "consent/emergency_detail.html",
        {
            "disclosure": disclosure,
            "client": disclosure.client,
            "can_review": can_review and pending,
            "review_by_another": pending and must_leave_review_to_another(viewer, disclosure),
            "can_end": disclosure.is_active,
            "review_form": review_form or EmergencyReviewForm(),
        },
    )


@require_GET
def emergency_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _emergency_page(request, emergency_get(viewer=request.viewer, public_id=public_id))


@require_POST
def emergency_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    disclosure = emergency_get(viewer=request.viewer, public_id=public_id)
    # A supervisor who may not review this one (they made it) is told why by the service.
    if not is_supervisor_of(request.viewer, disclosure.client.agency_id):
        raise Http404
    form = EmergencyReviewForm(request.POST)
    if form.is_valid():
        try:
            services.emergency_review(
                viewer=request.viewer, disclosure=disclosure, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, pgettext("emergency review", "The review was recorded."))
            return redirect("consent:emergency_detail", public_id=public_id)
    return _emergency_page(request, disclosure, form)


@require_POST
def emergency_end(request: HttpRequest, public_id: UUID) -> HttpResponse:
    disclosure = emergency_get(viewer=request.viewer, public_id=public_id)
    try:
        services.emergency_end(viewer=request.viewer, disclosure=disclosure)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The other agency no longer sees this record."))
    return redirect("consent:emergency_detail", public_id=public_id)


@require_GET
def emergency_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "consent/emergency_list.html",
        {"overview": emergency_overview(viewer=request.viewer)},
    )


# The client page's sections this app serves (cases.views.clients.section_view).
client_consents_section = section_view("consents", "consents", client_consents)
client_emergencies_section = section_view(
    "emergencies", "emergencies", client_emergency_disclosures
)
