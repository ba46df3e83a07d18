"""Sessions end when idle and when too old (the rules are in accounts.sessions)."""

from urllib.parse import urlencode, urlsplit

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from . import sessions
from .models import AuthenticationEventKind
from .services import authentication_event_record


class SessionLifetimeMiddleware:
    """Log out a session past its idle timeout or its absolute lifetime, before anything acts
    on it, and keep the record of its person's activity (throttled, see accounts.sessions)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = sessions.session_ended(request.session)
            if ended is not None:
                return self._end(request, ended)
            sessions.session_stamp(request.session)
        response = self.get_response(request)
        # A login in this very request starts the clocks now, not at the next request.
        if request.user.is_authenticated:
            sessions.session_stamp(request.session)
        elif _is_sent_to_login(response) and HtmxDetails(request):
            # Ended some other way (logged out in another tab, ended by an administrator): the
            # login page would be swapped into the fragment, so the whole page goes instead.
            return HttpResponseClientRedirect(_login_url(_where_they_were(request)))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated and sessions.counts_as_activity(view_func):
            sessions.session_touch(request.session)

    def _end(self, request: HttpRequest, kind: AuthenticationEventKind) -> HttpResponse:
        authentication_event_record(
            user=request.user, kind=kind, ip_address=get_client_ip_address(request)
        )
        come_back_to = _where_they_were(request)
        kept = sessions.kept_after_ending(request.session)
        logout(request)
        request.session.update(kept)
        messages.warning(request, _ended_message(kind))
        login_url = _login_url(come_back_to)
        if HtmxDetails(request):
            # A login page swapped into a fragment would be nonsense: the whole page goes.
            return HttpResponseClientRedirect(login_url)
        if _wants_json(request):
            # The timeout warning's status check: the page itself goes to the login.
            return JsonResponse({"ended": True, "login_url": resolve_url("login")}, status=401)
        return redirect(login_url)


def _ended_message(kind: AuthenticationEventKind) -> str:
    if kind == AuthenticationEventKind.MAX_AGE:
        hours = max(1, round(sessions.max_age().total_seconds() / 3600))
        return ngettext(
            "You were logged out because %(hours)d hour has passed since you logged in. "
            "Log in again to continue where you were.",
            "You were logged out because %(hours)d hours have passed since you logged in. "
            "Log in again to continue where you were.",
            hours,
        ) % {"hours": hours}
    minutes = max(1, round(sessions.idle_timeout().total_seconds() / 60))
    return ngettext(
        "You were logged out after %(minutes)d minute without activity. "
        "Log in again to continue where you were.",
        "You were logged out after %(minutes)d minutes without activity. "
        "Log in again to continue where you were.",
        minutes,
    ) % {"minutes": minutes}


def _login_url(come_back_to: str | None) -> str:
    login_url = resolve_url("login")
    return f"{login_url}?{urlencode({'next': come_back_to})}" if come_back_to else login_url


def _is_sent_to_login(response: HttpResponse) -> bool:
    return response.status_code == 302 and (
        urlsplit(response["Location"]).path == resolve_url("login")
    )


def _where_they_were(request: HttpRequest) -> str | None:
    """The page to come back to after logging in again: the page itself for a GET, the page a
    fragment or a form was on otherwise (a POST cannot be replayed)."""
    htmx = HtmxDetails(request)
    if htmx:
        candidate = htmx.current_url_abs_path
    elif request.method == "GET" and not _wants_json(request):
        candidate = request.get_full_path()
    else:
        candidate = request.headers.get("Referer")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return _path_only(candidate)
    return None


def _path_only(url: str) -> str:
    # A Referer is a full URL; the login's ``next`` needs only the path on this host.
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _wants_json(request: HttpRequest) -> bool:
    return request.accepts("application/json") and not request.accepts("text/html")
