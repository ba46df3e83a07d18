"""The timeout warning's two endpoints: how long this session has left, and "stay logged in"."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import resolve_url
from django.views.decorators.http import require_GET, require_POST

from . import sessions


@require_GET
@login_not_required
@sessions.background_request
def session_status(request: HttpRequest) -> JsonResponse:
    """Seconds left before the idle timeout and the absolute lifetime. The page asks before it
    warns or leaves: another tab may have been active since. Not activity itself."""
    if not request.user.is_authenticated:
        # Logged out elsewhere (another tab, an administrator): the page goes to the login.
        return JsonResponse({"ended": True, "login_url": resolve_url("login")}, status=401)
    return JsonResponse(sessions.session_timing(request.session).as_dict())


@require_POST
def session_keep_alive(request: HttpRequest) -> JsonResponse:
    """The button "Stay logged in": activity, recorded at once."""
    sessions.session_touch(request.session, force=True)
    return JsonResponse(sessions.session_timing(request.session).as_dict())
