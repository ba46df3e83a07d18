"""The pages of two-factor login: the code at login, enrolment with a QR code, the backup
codes, the user's own settings, asking the password again, and a system admin's reset."""

import time
from base64 import b32encode
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import authenticate, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from ..forms import LoginForm
from ..models import User
from ..reauth import mark_authenticated, recent_password_required
from . import ENROLMENT, NEW_BACKUP_CODES, PENDING, PENDING_SECONDS, REQUIRED, services
from .forms import CodeForm, ConfirmDeviceForm, PasswordForm


def _next_url(request: HttpRequest, default: str = "") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url("agencies:choose")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}" if next_url else reverse(name)


def _is_required(request: HttpRequest) -> bool:
    # Set on every request by agencies.middleware.SecondFactorMiddleware (the roster's rule);
    # without it, assume the stricter answer.
    return getattr(request, "second_factor_required", bool(request.session.get(REQUIRED, True)))


# --- Login -----------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The password, then, for a user with an authenticator, the code page: the user is
    logged in only there, once both factors are right."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not services.has_second_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
        }
        return redirect(_with_next("two_factor:verify", self.get_success_url()))


def _pending_user(request: HttpRequest) -> tuple[User | None, str | None]:
    """Who is on the code page: the user who passed the password a moment ago, or a logged-in
    user whose session was started without the code (sent here by the middleware)."""
    if request.user.is_authenticated:
        return request.user, None
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None, None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending.get("backend")


@login_not_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user, backend = _pending_user(request)
    next_url = _next_url(request)
    if user is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("Log in again: the time to enter the code ran out."))
        return redirect(_with_next("login", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.get_username()}
        code = form.cleaned_data["code"]
        wait = services.verify_wait_seconds(user) if services.is_totp_code(code) else 0
        if not AxesProxyHandler.is_allowed(request, credentials):
            # Locked out (django-axes): the lockout page answers, the half-done login is
            # forgotten.
            request.session.pop(PENDING, None)
            request.axes_locked_out = True
            request.axes_credentials = credentials
        elif wait:
            form.add_error(
                "code",
                ngettext(
                    "Too many wrong codes. Wait %(seconds)d second and enter the code again.",
                    "Too many wrong codes. Wait %(seconds)d seconds and enter the code again.",
                    wait,
                )
                % {"seconds": wait},
            )
        else:
            ip = get_client_ip_address(request)
            device = services.second_factor_verify(user=user, code=code, ip_address=ip)
            if device is not None:
                return _logged_in(request, user, backend, device, next_url)
            # A wrong code counts as a failed login: django-axes locks the account out after
            # as many failures as for a wrong password.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                request.session.pop(PENDING, None)
            form.add_error(
                "code",
                _(
                    "The code is not correct. Enter the 6 digits the app shows now, "
                    "or a backup code."
                ),
            )
    return render(request, "accounts/two_factor/verify.html", {"form": form, "next": next_url})


def _logged_in(request, user, backend, device, next_url) -> HttpResponse:
    if not request.user.is_authenticated:
        login(request, user, backend=backend)
    otp_login(request, device)
    request.session.pop(PENDING, None)
    if isinstance(device, StaticDevice):
        left = services.backup_codes_left(user)
        messages.warning(
            request,
            ngettext(
                "You logged in with a backup code; it cannot be used again. %(left)d backup "
                "code is left: make new ones under Two-factor login.",
                "You logged in with a backup code; it cannot be used again. %(left)d backup "
                "codes are left: make new ones under Two-factor login.",
                left,
            )
            % {"left": left},
        )
    return redirect(next_url)


# --- The user's own second factor ------------------------------------------------------------


@require_http_methods(["GET"])
def manage(request: HttpRequest) -> HttpResponse:
    device = services.confirmed_totp_device(request.user)
    return render(
        request,
        "accounts/two_factor/manage.html",
        {
            "device": device,
            "backup_codes_left": services.backup_codes_left(request.user) if device else 0,
            "required": _is_required(request),
        },
    )


def _qr_svg(device: TOTPDevice) -> str:
    # Inline SVG markup: no image request, no data: URL, nothing for the CSP to allow.
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code for the authenticator app")
    )


def _secret_text(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrolment_key(request: HttpRequest) -> str:
    """The secret of the authenticator being added, kept in the session until confirmed."""
    pending = request.session.get(ENROLMENT)
    if isinstance(pending, dict) and pending.get("user") == request.user.pk:
        return pending["key"]
    key = random_hex(20)
    request.session[ENROLMENT] = {"user": request.user.pk, "key": key}
    return key


@require_http_methods(["GET", "POST"])
@recent_password_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Add (or replace) the authenticator: scan the QR code or type the secret, then confirm
    with the first code the app shows. Right after the login of someone who must have one,
    this is the only page they can reach."""
    next_url = _next_url(request, default=reverse("two_factor:manage"))
    key = _enrolment_key(request)
    form = ConfirmDeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.totp_enrolment_confirm(
                user=request.user,
                key=key,
                code=form.cleaned_data["code"],
                ip_address=get_client_ip_address(request),
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            # The other sessions ended (they were not verified); this one goes on.
            update_session_auth_hash(request, request.user)
            otp_login(request, device)
            request.session.pop(ENROLMENT, None)
            request.session[NEW_BACKUP_CODES] = codes
            messages.success(request, _("Two-factor login is on."))
            return redirect(_with_next("two_factor:backup_codes", next_url))
    device = services.totp_enrolment_device(user=request.user, key=key)
    return render(
        request,
        "accounts/two_factor/enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device),
            "secret": _secret_text(device),
            "next": next_url,
            "replacing": services.has_second_factor(request.user),
            "required": _is_required(request),
        },
    )


@require_http_methods(["GET"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """The new backup codes, shown once: the session forgets them as this page is shown."""
    codes = request.session.pop(NEW_BACKUP_CODES, None)
    if not codes:
        return redirect("two_factor:manage")
    grouped = [f"{code[:4]} {code[4:]}" for code in codes]
    return render(
        request,
        "accounts/two_factor/backup_codes.html",
        {
            "codes": grouped,
            "next": _next_url(request, default=reverse("two_factor:manage")),
            "username": request.user.get_username(),
        },
    )


@require_POST
@recent_password_required
def backup_codes_new(request: HttpRequest) -> HttpResponse:
    if not services.has_second_factor(request.user):
        messages.error(request, _("Set up two-factor login first."))
        return redirect("two_factor:manage")
    codes = services.backup_codes_regenerate(
        user=request.user, ip_address=get_client_ip_address(request)
    )
    request.session[NEW_BACKUP_CODES] = codes
    messages.success(request, _("New backup codes were made; the old ones no longer work."))
    return redirect("two_factor:backup_codes")


@require_http_methods(["GET", "POST"])
@recent_password_required
def remove(request: HttpRequest) -> HttpResponse:
    required = _is_required(request)
    if required:
        messages.error(
            request,
            _("Your role or your agency requires two-factor login; it cannot be turned off."),
        )
        return redirect("two_factor:manage")
    if request.method == "POST":
        services.second_factor_remove(
            user=request.user, required=required, ip_address=get_client_ip_address(request)
        )
        messages.success(request, _("Two-factor login is off."))
        return redirect("two_factor:manage")
    return render(request, "accounts/two_factor/remove.html")


# --- Asking the password again -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """The password again, before a change to how this person logs in. A wrong one counts as
    a failed login (django-axes)."""
    next_url = _next_url(request, default=reverse("two_factor:manage"))
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=request.user.get_username(),
            password=form.cleaned_data["password"],
        )
        if user is not None and user.pk == request.user.pk:
            mark_authenticated(request.session)
            return redirect(next_url)
        form.add_error("password", _("The password is not correct."))
    return render(
        request, "accounts/two_factor/reauthenticate.html", {"form": form, "next": next_url}
    )
