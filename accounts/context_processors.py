from django.urls import reverse

from . import sessions


def session_timing(request) -> dict:
    """What the timeout warning (static/js/session-timeout.js) reads from <body>: the limits
    and where to ask. Nothing for a visitor who is not logged in."""
    user = getattr(request, "user", None)
    # A page rendered outside a browser's session (a fragment for another page, a test's
    # request) has no timeout to warn of.
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}
    timing = sessions.session_timing(request.session)
    return {
        "session_timing": {
            "idle_remaining": timing.idle_remaining,
            "max_remaining": timing.max_remaining,
            "warning": timing.warning,
            "status_url": reverse("session_status"),
            "keep_alive_url": reverse("session_keep_alive"),
            "login_url": reverse("login"),
        }
    }
