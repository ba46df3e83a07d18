"""The person who logs in.

Identity and authentication stand apart from the agency roster: one person may work for
several agencies (a 社会福祉協議会 often runs both a 自立相談支援機関 and a
ひきこもり支援ステーション), so the user carries only who they are; what they may do lives on
their memberships in ``agencies``.
"""

from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    # Japanese names do not split cleanly into given/family for every person; keep one field.
    first_name = None
    last_name = None
    full_name = models.CharField(_("full name"), max_length=100)
    full_name_kana = models.CharField(_("full name (kana)"), max_length=100, blank=True)
    is_system_admin = models.BooleanField(
        _("system administrator"),
        default=False,
        help_text=_("Keeps municipalities and agencies for the whole installation."),
    )

    # Bumped to end every session of the user at once (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name

    # Django keeps the hash in the session at login and logs the session out when the user's
    # hash no longer matches. Mixing the epoch into it lets deactivation end every session
    # without a password change or a scan of the sessions. Both public methods are overridden,
    # so a session signed with a key now in SECRET_KEY_FALLBACKS still verifies (and still
    # ends with the epoch).
    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, *, secret: str | None) -> str:
        # The salt and message are those sessions have always been signed with: a change would
        # log everyone out.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def has_perm(self, perm: str, obj: object = None) -> bool:
        # System admins run the Django admin; nobody else gets model permissions there.
        return self.is_active and self.is_system_admin

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_system_admin


class AuthenticationEventKind(models.TextChoices):
    """What ended or changed a user's sessions, for the authentication log (audit app). Failed
    and successful logins are django-axes' own tables; these are the events axes does not see."""

    IDLE_TIMEOUT = "idle_timeout", _("Logged out: no activity")
    MAX_AGE = "max_age", _("Logged out: session lifetime reached")
    SESSIONS_ENDED = "sessions_ended", _("All sessions ended by an administrator")
    # Two-factor login (accounts.two_factor): axes sees the password, not the code.
    TWO_FACTOR_ENROLLED = "2fa_enrolled", _("Two-factor login set up")
    TWO_FACTOR_VERIFIED = "2fa_verified", _("Second factor: code accepted")
    TWO_FACTOR_FAILED = "2fa_failed", _("Second factor: wrong code")
    BACKUP_CODE_USED = "2fa_backup_code_used", _("Second factor: backup code used")
    BACKUP_CODES_REGENERATED = "2fa_backup_codes_new", _("New backup codes made")
    TWO_FACTOR_REMOVED = "2fa_removed", _("Two-factor login turned off by the user")
    TWO_FACTOR_RESET = "2fa_reset", _("Second factor reset by an administrator")


class AuthenticationEvent(models.Model):
    """One session event of one user (see AuthenticationEventKind). Rows are only inserted."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=30, choices=AuthenticationEventKind.choices)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    # The user name as it was: the log must read the same after a rename.
    username = models.CharField(_("user name"), max_length=150)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system ended the session by itself."),
    )

    class Meta:
        verbose_name = _("authentication event")
        verbose_name_plural = _("authentication events")
        indexes = [models.Index(fields=["-at", "-id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
