from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db.models import BooleanField, CharField, F, Max, QuerySet, Sum, Value
from django.http import Http404
from django.utils import timezone

from accounts.models import AuthenticationEvent as SessionEvent
from accounts.models import AuthenticationEventKind
from accounts.permissions import is_system_admin
from core.pagination import KeysetPage, cursor_for, cursor_values, rows_after

from .models import AuditEntry


def audit_entry_list(
    *, viewer, action_prefix: str = "", target_type: str = ""
) -> QuerySet[AuditEntry]:
    """The audit trail, newest first; system admins only."""
    if not is_system_admin(viewer):
        raise Http404
    entries = AuditEntry.objects.select_related("actor", "acting_agency").order_by("-id")
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    if target_type:
        entries = entries.filter(target_type=target_type)
    return entries


# --- The authentication log (django-axes' tables) ------------------------------------------------

AUTHENTICATION_ORDERING = ["-attempt_time", "-kind", "-id"]
AUTHENTICATION_PAGE_SIZE = 25


# The kinds of row the log combines: django-axes' failures and successes, and the session events
# of accounts (AuthenticationEventKind: idle timeout, lifetime reached, sessions ended).
LOGIN_KINDS = ("failure", "success")
EVENT_KINDS = (*LOGIN_KINDS, *AuthenticationEventKind.values)


@dataclass(frozen=True)
class AuthenticationEvent:
    id: int
    # "failure" (AccessFailureLog), "success" (AccessLog) or an AuthenticationEventKind value
    kind: str
    attempt_time: datetime
    username: str | None
    ip_address: str | None
    locked_out: bool

    @property
    def outcome(self) -> str:
        if self.kind != "failure":
            return self.kind
        return "locked_out" if self.locked_out else "failure"

    @property
    def session_event_label(self) -> str:
        """The label of a session event (empty for a login)."""
        if self.kind in LOGIN_KINDS:
            return ""
        return AuthenticationEventKind(self.kind).label


def _event_parts():
    fields = ("id", "kind", "attempt_time", "username", "ip_address", "locked_out")
    failures = AccessFailureLog.objects.annotate(
        kind=Value("failure", output_field=CharField())
    ).values_list(*fields)
    successes = AccessLog.objects.annotate(
        kind=Value("success", output_field=CharField()),
        locked_out=Value(False, output_field=BooleanField()),
    ).values_list(*fields)
    session_events = SessionEvent.objects.annotate(
        attempt_time=F("at"),
        locked_out=Value(False, output_field=BooleanField()),
    ).values_list(*fields)
    return failures, successes, session_events


def _typed_cursor(cursor: str | None) -> list | None:
    values = cursor_values(cursor, len(AUTHENTICATION_ORDERING))
    if values is None:
        return None
    when, kind, pk = values
    if not isinstance(when, str) or kind not in EVENT_KINDS or not isinstance(pk, int):
        return None
    try:
        return [datetime.fromisoformat(when), kind, pk]
    except ValueError:
        return None


def authentication_event_page(
    *, viewer, cursor: str | None = None, username: str | None = None
) -> KeysetPage:
    """Failed logins (a lockout is the failure that reached the limit), successful logins and
    session events (timeouts, sessions ended), newest first, in keyset pages of 25, of every
    user name or of ``username`` alone; system admins only.

    Three tables, so the keyset helpers for a UNION: each part is filtered "after the cursor"
    before they are combined, then the combination is ordered and cut."""
    if not is_system_admin(viewer):
        raise Http404
    parts = _event_parts()
    if username is not None:
        parts = [part.filter(username=username) for part in parts]
    after = _typed_cursor(cursor)
    if after is not None:
        condition = rows_after(AUTHENTICATION_ORDERING, after)
        parts = [part.filter(condition) for part in parts]
    first, *others = parts
    combined = first.union(*others, all=True).order_by(*AUTHENTICATION_ORDERING)
    rows = [AuthenticationEvent(*row) for row in combined[: AUTHENTICATION_PAGE_SIZE + 1]]
    next_cursor = None
    if len(rows) > AUTHENTICATION_PAGE_SIZE:
        rows = rows[:AUTHENTICATION_PAGE_SIZE]
        last = rows[-1]
        next_cursor = cursor_for([last.attempt_time.isoformat(), last.kind, last.id])
    return KeysetPage(items=rows, next_cursor=next_cursor)


def locked_usernames(*, viewer) -> list[dict]:
    """The user names locked out now (failures within the cool-off reaching the limit), with
    when their last failure was; system admins only."""
    if not is_system_admin(viewer):
        raise Http404
    since = timezone.now() - get_cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since, username__isnull=False)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=get_failure_limit(None, None))
        .order_by("-last", "username")
    )
    return list(rows)


def account_lockout(*, viewer, username: str) -> dict | None:
    """The lockout of one user name now ({"failures", "last"}), or None if it is not locked
    out; system admins only."""
    if not is_system_admin(viewer):
        raise Http404
    since = timezone.now() - get_cool_off()
    row = AccessAttempt.objects.filter(attempt_time__gte=since, username=username).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if (row["failures"] or 0) < get_failure_limit(None, None):
        return None
    return row
