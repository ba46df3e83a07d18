"""Re-authentication before changing the password or the second factor.

The session remembers when its person last typed their password (the login, or the password
asked again here). A view decorated ``@recent_password_required`` asks for it again when that
is older than ``TSUNAGU_REAUTHENTICATION_MINUTES``: someone who finds a session left open
cannot lock its owner out by changing their password or second factor.
"""

import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect, resolve_url

AUTHENTICATED_AT = "tsunagu_authenticated_at"  # Unix seconds of the last password typed


def mark_authenticated(session) -> None:
    session[AUTHENTICATED_AT] = time.time()


def on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: a login is a password just typed (or a password and a code)."""
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request.session)


def is_recent(session) -> bool:
    at = session.get(AUTHENTICATED_AT)
    if not isinstance(at, int | float):
        return False
    return time.time() - at < settings.TSUNAGU_REAUTHENTICATION.total_seconds()


def recent_password_required(view: Callable) -> Callable:
    """Send the user to type their password again first when it is not recent; they come back
    to this page (a form sent then is not replayed: they send it again)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_recent(request.session):
            return view(request, *args, **kwargs)
        come_back = request.get_full_path() if request.method == "GET" else request.path
        url = resolve_url("two_factor:reauthenticate")
        return redirect(f"{url}?{urlencode({'next': come_back})}")

    return wrapped
