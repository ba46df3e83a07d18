"""How long a logged-in session lasts, kept in the session itself.

Two limits, both settings: the idle timeout (``TSUNAGU_SESSION_IDLE``, 30 minutes) and the
absolute lifetime (``TSUNAGU_SESSION_MAX_AGE``, 12 hours from the login). The session holds when
it logged in and when its person was last active, as Unix seconds.

Activity is a request the person made: a page, a form sent, a fragment a click or a keystroke
asked for, the "Stay logged in" button. Requests the page makes by itself on a timer are not:
the notification badge polled every minute would otherwise keep a page left open logged in
forever, and the session-status check of the timeout warning would keep itself alive. Their views
carry ``@background_request``.

The last activity is written at most once per ``activity_write_interval()`` (a minute at the
default timeout): writing it on every request would save the session row on every click. So a
session may end up to that interval before a full idle period after its very last request.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from .models import AuthenticationEventKind

LOGIN_AT = "tsunagu_login_at"
ACTIVE_AT = "tsunagu_active_at"


# Session keys that outlive the logout of an ended session, so that the same person logging in
# again comes back to the same place: the agency they acted as (agencies registers its key).
# Whoever sets one must check it against the user who logs in next: it may be someone else.
_kept_after_ending: set[str] = set()


def keep_after_ending(key: str) -> None:
    _kept_after_ending.add(key)


def kept_after_ending(session) -> dict:
    return {key: session[key] for key in _kept_after_ending if key in session}


def idle_timeout() -> timedelta:
    return settings.TSUNAGU_SESSION_IDLE


def max_age() -> timedelta:
    return settings.TSUNAGU_SESSION_MAX_AGE


def warning_before() -> timedelta:
    return settings.TSUNAGU_SESSION_WARNING


def activity_write_interval() -> float:
    # A tenth of the idle timeout, at most a minute: short timeouts (tests) stay accurate.
    return min(60.0, idle_timeout().total_seconds() / 10)


def background_request(view: Callable) -> Callable:
    """Mark a view the page calls by itself (a poll, a status check): not activity."""
    view.session_activity = False
    return view


def counts_as_activity(view: Callable) -> bool:
    return getattr(view, "session_activity", True)


def session_stamp(session, now: float | None = None) -> None:
    """Start the clocks of a session that has just logged in (or was logged in before they
    existed)."""
    if _seconds(session.get(LOGIN_AT)) is not None:
        return
    now = time.time() if now is None else now
    session[LOGIN_AT] = now
    session[ACTIVE_AT] = now


def session_touch(session, now: float | None = None, *, force: bool = False) -> None:
    """Record activity; written only when the last record is older than the write interval,
    unless ``force`` (the person asked to stay)."""
    now = time.time() if now is None else now
    last = _seconds(session.get(ACTIVE_AT))
    if force or last is None or now - last >= activity_write_interval():
        session[ACTIVE_AT] = now


def session_ended(session, now: float | None = None) -> AuthenticationEventKind | None:
    """Why this session is over (idle or too old), or None while it lasts."""
    now = time.time() if now is None else now
    login_at, active_at = _seconds(session.get(LOGIN_AT)), _seconds(session.get(ACTIVE_AT))
    if login_at is not None and now - login_at >= max_age().total_seconds():
        return AuthenticationEventKind.MAX_AGE
    if active_at is not None and now - active_at >= idle_timeout().total_seconds():
        return AuthenticationEventKind.IDLE_TIMEOUT
    return None


@dataclass(frozen=True)
class SessionTiming:
    """Seconds left before each limit; what the page's timeout warning schedules itself by."""

    idle_remaining: int
    max_remaining: int
    warning: int

    def as_dict(self) -> dict:
        return {
            "idle_remaining": self.idle_remaining,
            "max_remaining": self.max_remaining,
            "warning": self.warning,
        }


def session_timing(session, now: float | None = None) -> SessionTiming:
    now = time.time() if now is None else now
    login_at = _seconds(session.get(LOGIN_AT)) or now
    active_at = _seconds(session.get(ACTIVE_AT)) or now
    return SessionTiming(
        idle_remaining=max(0, int(active_at + idle_timeout().total_seconds() - now)),
        max_remaining=max(0, int(login_at + max_age().total_seconds() - now)),
        warning=int(warning_before().total_seconds()),
    )


def _seconds(value) -> float | None:
    # A session written by another version may hold anything: treat it as unknown, not a crash.
    return float(value) if isinstance(value, int | float) else None
