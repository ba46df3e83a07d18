from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import keep_after_ending
from accounts.two_factor import REQUIRED as SECOND_FACTOR_REQUIRED

from .permissions import Viewer, must_use_second_factor
from .selectors import membership_get_for_user, membership_list_for_user

SESSION_KEY = "current_membership_id"
# The agency survives an idle timeout's logout, so logging in again comes back to the same page as
# the same agency; it is only ever read through membership_get_for_user, for whoever logs in.
keep_after_ending(SESSION_KEY)


class CurrentAgencyMiddleware:
    """Attach ``request.membership`` and ``request.viewer``: who acts, as which agency.

    The membership is re-read from the database on every request (one query), so a deactivated
    membership or agency stops working at once rather than when the session ends.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        if request.user.is_authenticated:
            request.membership = membership_get_for_user(
                user=request.user, membership_id=request.session.get(SESSION_KEY)
            )
        request.viewer = Viewer(user=request.user, membership=request.membership)
        return self.get_response(request)


# Pages a user who still owes the second factor may open: the code page, the enrolment and
# what it leads to, asking the password again, the logout, the language switch, and the
# session checks of the timeout warning (they answer JSON, never a page to redirect).
SECOND_FACTOR_OPEN = frozenset(
    {
        "two_factor:verify",
        "two_factor:enrol",
        "two_factor:backup_codes",
        "two_factor:reauthenticate",
        "logout",
        "set_language",
        "health",
        "session_status",
        "session_keep_alive",
    }
)


def remember_second_factor_rule(sender, request, user, **kwargs) -> None:
    """At login (user_logged_in), whether any of the user's memberships requires a second
    factor: kept in the session, so later requests need no query of every membership. The
    agency the user acts as now is checked on every request as well (SecondFactorMiddleware)."""
    if request is not None and hasattr(request, "session"):
        request.session[SECOND_FACTOR_REQUIRED] = must_use_second_factor(
            user, membership_list_for_user(user=user)
        )


class SecondFactorMiddleware:
    """Enforce two-factor login for those who must have it (must_use_second_factor).

    A user who must and whose session is not verified (django-otp's OTPMiddleware, above)
    reaches only the pages in SECOND_FACTOR_OPEN: the enrolment when they have no
    authenticator yet, else the code page. The Django admin goes the same way. Sets
    ``request.second_factor_required`` for the pages of two-factor login.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        memberships = [request.membership] if request.membership else []
        required = bool(request.session.get(SECOND_FACTOR_REQUIRED)) or must_use_second_factor(
            user, memberships
        )
        request.second_factor_required = required
        if not required or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_OPEN:
            return None
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        target = reverse("two_factor:verify" if has_device else "two_factor:enrol")
        come_back = request.get_full_path() if request.method == "GET" else ""
        if come_back:
            target = f"{target}?{urlencode({'next': come_back})}"
        if getattr(request, "htmx", False):
            # A fragment swapped in would be the enrolment page: the whole page goes there.
            return HttpResponseClientRedirect(target)
        return redirect(target)
