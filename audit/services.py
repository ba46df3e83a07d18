from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import F, Sum
from django.http import Http404

from accounts.models import AuthenticationEventKind
from accounts.permissions import is_system_admin
from accounts.services import authentication_event_record
from accounts.two_factor.services import second_factor_devices_delete

from .models import AuditEntry

# Never written to the audit trail in clear.
MASKED_FIELDS = frozenset({"password", "phone", "email", "address", "postal_code", "birth_date"})
MASK = "***"


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_plain(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def diff(
    before: dict[str, Any], after: dict[str, Any], *, masked: frozenset[str] = MASKED_FIELDS
) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed, masked where personal.

    An agency's own phone or address is public, so its callers pass ``masked=frozenset()``.
    """
    changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old != new:
            changes[field] = [MASK, MASK] if field in masked else [old, new]
    return changes


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    acting_agency=None,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEntry:
    """Write one audit entry. Must run inside the transaction of the change it records."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change.")
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        acting_agency=acting_agency,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(getattr(target, "public_id", None) or target.pk),
        # Client records name no one in the audit trail: they give a non-personal label.
        target_label=(target.audit_label() if hasattr(target, "audit_label") else str(target))[
            :300
        ],
        changes=changes or {},
    )


@transaction.atomic
def authentication_unlock(*, viewer, username: str) -> int:
    """A system admin lifts the lockout of the account ``username`` before its cool-off ends:
    its failed attempts are forgotten (the failure log keeps them). Audited; returns how many
    attempt rows were cleared. Anyone else, or a user name with no account, gets a 404."""
    if not is_system_admin(viewer):
        raise Http404
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Http404
    attempts = AccessAttempt.objects.filter(username=username)
    failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    cleared = axes_reset(username=username)
    audit_record(
        actor=viewer,
        action="authentication.unlocked",
        target=user,
        changes={"failures": [failures, 0]},
    )
    return cleared


@transaction.atomic
def user_sessions_end(*, actor, user) -> None:
    """A system admin ends every session of ``user``, on every device, at once (a lost laptop,
    a person who left): each one fails its auth-hash check at its next request, in every web
    process (the epoch is part of the hash, see accounts.models.User). Audited, and written to
    the authentication log. Anyone else gets a 404."""
    if not is_system_admin(actor):
        raise Http404
    user_model = get_user_model()
    before = user_model.objects.select_for_update().values_list("session_epoch", flat=True)
    epoch = before.get(pk=user.pk)
    user_model.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    audit_record(
        actor=actor,
        action="authentication.sessions_ended",
        target=user,
        changes={"session_epoch": [epoch, epoch + 1]},
    )
    authentication_event_record(
        user=user, kind=AuthenticationEventKind.SESSIONS_ENDED, ip_address=None, actor=actor
    )


@transaction.atomic
def second_factor_reset(*, actor, user) -> int:
    """A system admin resets the second factor of someone who lost their phone: the
    authenticator and the backup codes go, every session of the user ends (the epoch, as
    user_sessions_end), and at the next login the user enrols again. Audited, and written to
    the authentication log; returns how many devices were removed. Anyone else gets a 404."""
    if not is_system_admin(actor):
        raise Http404
    user_model = get_user_model()
    user_model.objects.select_for_update().filter(pk=user.pk).first()
    removed = second_factor_devices_delete(user)
    user_model.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    audit_record(
        actor=actor,
        action="authentication.second_factor_reset",
        target=user,
        changes={"second_factor_devices": [removed, 0]},
    )
    authentication_event_record(
        user=user, kind=AuthenticationEventKind.TWO_FACTOR_RESET, ip_address=None, actor=actor
    )
    return removed
