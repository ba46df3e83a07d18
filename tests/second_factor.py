"""Logging test users in as a real login does, second factor included.

Two-factor login stays enforced in tests (no setting turns it off). So the helpers do what a
person does: a user who must have a second factor gets a confirmed authenticator, and
- an HTTP test's ``force_login`` marks the session verified with it, as the code page does
  (``django_otp.login`` writes the device's persistent id into the session);
- a browser test types the current code, computed from the device's secret, on the code page,
  or enrols (reads the secret on the page) when the user has none yet.
"""

import re
import time
from base64 import b32decode

from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP


def totp_code(key: bytes, *, after_step: int = -1) -> str:
    """The code an authenticator app shows now for ``key``; a code of a later step when now's
    was already used (django-otp accepts one step ahead, never the same step twice)."""
    totp = TOTP(key)
    totp.time = time.time()
    if totp.t() <= after_step:
        totp.time += (after_step + 1 - totp.t()) * totp.step
    return f"{totp.token():06d}"


def device_code(device) -> str:
    device.refresh_from_db()
    return totp_code(device.bin_key, after_step=device.last_t)


def secret_code(secret_text: str) -> str:
    """The code for a secret as the enrolment page shows it (grouped base32)."""
    secret = re.sub(r"\s", "", secret_text)
    return totp_code(b32decode(secret))


def must_use_second_factor(user) -> bool:
    from agencies.permissions import must_use_second_factor as rule
    from agencies.selectors import membership_list_for_user

    return rule(user, membership_list_for_user(user=user))


def otp_queries(user) -> int:
    """The queries a request of ``user``'s session spends on the second factor: one when it
    was verified (django-otp's OTPMiddleware loads the device on every request), else none."""
    return 1 if must_use_second_factor(user) else 0


def authenticator_for(user):
    """The user's confirmed authenticator, made once (as if they had enrolled)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device


def verify_session(client: Client, user) -> None:
    """After ``force_login``: for a user who must have a second factor, the session passed it
    (what the code page leaves behind)."""
    if not must_use_second_factor(user):
        return
    device = authenticator_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


class VerifyingClient(Client):
    """The test client whose ``force_login`` also passes the second factor when the user must
    have one, as a real login would."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        verify_session(self, user)


def pass_second_factor_in_browser(page, username: str) -> None:
    """After the password was sent in a browser: type the code when asked, or enrol when the
    role requires it and there is no authenticator yet; nothing otherwise."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.wait_for_load_state()
    if "/accounts/two-factor/code/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.locator("#id_code").fill(device_code(device))
        page.locator("#two-factor-code button[type=submit]").click()
        page.wait_for_load_state()
    elif "/accounts/two-factor/set-up/" in page.url:
        page.locator("#id_code").fill(secret_code(page.locator("#totp-secret").inner_text()))
        page.locator("#two-factor-confirm button[type=submit]").click()
        page.locator("#backup-codes-continue").click()
        page.wait_for_load_state()
