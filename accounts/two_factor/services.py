"""Second-factor writes: each names its acting user, runs in one transaction and writes its
event to the authentication log (accounts.AuthenticationEvent) in it."""

import time
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import AuthenticationEvent, AuthenticationEventKind, User
from . import BACKUP_CODE_COUNT

DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup"


def normalise_code(text: str) -> str:
    """What a person typed, as the devices compare it: full-width digits and letters become
    ASCII (NFKC), spaces and hyphens go, letters are lower case (backup codes)."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch not in " \t-").lower()


def is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _event(*, user, kind, ip_address, actor=None) -> AuthenticationEvent:
    return AuthenticationEvent.objects.create(
        kind=kind, user=user, username=user.get_username(), ip_address=ip_address, actor=actor
    )


def totp_enrolment_device(*, user: User, key: str) -> TOTPDevice:
    """The authenticator being added, not saved: its secret lives in the session until the
    first code confirms it (a GET writes nothing), and a reload keeps the secret a phone may
    already have scanned."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def totp_enrolment_confirm(
    *, user: User, key: str, code: str, ip_address: str | None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being enrolled with a code it shows: it replaces any earlier
    one, ten new backup codes replace the old, and the user's other sessions end (they were
    logged in without this factor). Returns the device and the backup codes, to show once."""
    device = totp_enrolment_device(user=user, key=key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not is_totp_code(code) or not totp.verify(int(code), device.tolerance):
        raise ValidationError(
            _("The code is not correct. Enter the 6 digits the app shows now."), code="wrong_code"
        )
    TOTPDevice.objects.filter(user=user).delete()
    # The code just used may not log in again (django-otp accepts each time step once).
    device.last_t = totp.t()
    device.confirmed = True
    device.save()
    codes = _new_backup_codes(user)
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    _event(user=user, kind=AuthenticationEventKind.TWO_FACTOR_ENROLLED, ip_address=ip_address)
    return device, codes


@transaction.atomic
def backup_codes_regenerate(*, user: User, ip_address: str | None) -> list[str]:
    """Ten new backup codes for a user with an authenticator; the old ones stop working."""
    if not has_second_factor(user):
        raise PermissionDenied
    codes = _new_backup_codes(user)
    _event(user=user, kind=AuthenticationEventKind.BACKUP_CODES_REGENERATED, ip_address=ip_address)
    return codes


@transaction.atomic
def second_factor_remove(*, user: User, required: bool, ip_address: str | None) -> None:
    """The user turns their own two-factor login off: only when nobody requires it of them."""
    if required:
        raise PermissionDenied
    deleted = second_factor_devices_delete(user)
    if deleted:
        _event(user=user, kind=AuthenticationEventKind.TWO_FACTOR_REMOVED, ip_address=ip_address)


def second_factor_devices_delete(user: User) -> int:
    """Remove the user's authenticator and backup codes; how many devices went. Not audited
    itself: its callers are (second_factor_remove here, audit.services.second_factor_reset
    for a system admin's reset), in their transaction."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    backup, _ = StaticDevice.objects.filter(user=user).delete()
    return totp + backup


def second_factor_verify(*, user: User, code: str, ip_address: str | None) -> Device | None:
    """Check a code at login: six digits against the authenticator, anything else against the
    backup codes (each works once). The outcome is written to the authentication log. Returns
    the device that accepted it, or None.

    A wrong code returns normally (no exception), so its transaction commits what must stay
    counted: the device's throttle and the log entry. The devices are locked while checked, so
    two requests cannot both spend the same code."""
    device: Device | None = None
    kind = AuthenticationEventKind.TWO_FACTOR_FAILED
    with transaction.atomic():
        if is_totp_code(code):
            totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            if totp is not None and totp.verify_token(code):
                device, kind = totp, AuthenticationEventKind.TWO_FACTOR_VERIFIED
        elif code:
            backup = (
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            # StaticDevice.verify_token deletes the code it accepts: each works once.
            if backup is not None and backup.verify_token(code):
                device, kind = backup, AuthenticationEventKind.BACKUP_CODE_USED
        _event(user=user, kind=kind, ip_address=ip_address)
    return device


def verify_wait_seconds(user: User) -> int:
    """Seconds before the authenticator accepts another try after wrong codes (django-otp's
    throttle doubles the wait with each failure); 0 when it may be tried now."""
    totp = confirmed_totp_device(user)
    if totp is None:
        return 0
    allowed, details = totp.verify_is_allowed()
    if allowed or not details or "locked_until" not in details:
        return 0
    return max(1, int((details["locked_until"] - timezone.now()).total_seconds()) + 1)
