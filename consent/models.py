"""Consent records (本人同意): what a person allowed to be passed to which agency, for what.

A consent is never edited or deleted. A change is a new record (``replaces`` points at the old
one, which ends); a withdrawal ends a record from that day on. The gate
(``consent.gate``) is the one place that reads these rows to decide what may cross.
"""

import uuid
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.records import DataCategory as DataCategory  # what a consent covers, named here too
from core.records import category_labels
from core.validity import holds

from .storage import get_private_storage


class Purpose(models.TextChoices):
    TSUNAGI = "referral", _("Referral (tsunagi)")
    JOINT_SUPPORT = "joint_support", _("Joint support")
    MEETING = "meeting", _("Information for a support coordination meeting")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("In writing")
    ORAL = "oral", _("Orally")
    ELECTRONIC = "electronic", _("Electronically")


class GivenBy(models.TextChoices):
    CLIENT = "client", _("The person themselves")
    PARENT = "parent", _("Person with parental authority (minor)")
    GUARDIAN = "guardian", _("Adult guardian")


def default_valid_until() -> date:
    today = timezone.localdate()
    return (
        today.replace(year=today.year + 1)
        if not (today.month == 2 and today.day == 29)
        else (today.replace(year=today.year + 1, day=28))
    )


def scan_path(instance: "Consent", filename: str) -> str:
    # The name says nothing about the person; the folder is per holding agency.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"consent-scans/{instance.client.agency_id}/{instance.public_id}.{suffix}"


def valid_on(day: date) -> Q:
    """A consent counts on ``day``: obtained by then, not past its term, not yet ended (a
    withdrawal or a replacement ends it from its ``ended_on`` on)."""
    return Q(obtained_on__lte=day, valid_until__gte=day) & (
        Q(ended_on__isnull=True) | Q(ended_on__gt=day)
    )


class ConsentQuerySet(models.QuerySet):
    def valid_on(self, day: date | None = None) -> "ConsentQuerySet":
        return self.filter(valid_on(day or timezone.localdate()))


class Consent(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey("cases.Client", on_delete=models.PROTECT, related_name="consents")
    recipient = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="consents_received",
        verbose_name=_("to agency"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    categories = models.JSONField(_("data covered"), default=list)
    method = models.CharField(_("how it was given"), max_length=20, choices=ConsentMethod.choices)
    scan = models.FileField(
        _("scan of the signed form"),
        storage=get_private_storage,
        upload_to=scan_path,
        blank=True,
    )
    given_by = models.CharField(
        _("given by"), max_length=20, choices=GivenBy.choices, default=GivenBy.CLIENT
    )
    representative_name = models.CharField(
        _("name of the legal representative"), max_length=100, blank=True
    )
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("obtained by"),
    )
    obtained_on = models.DateField(_("obtained on"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), default=default_valid_until)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    ended_on = models.DateField(
        _("ended on"),
        null=True,
        blank=True,
        help_text=_("Set by a withdrawal or when a new record replaces this one."),
    )
    withdrawn_how = models.CharField(_("how it was withdrawn"), max_length=200, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawal recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-obtained_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("obtained_on")),
                name="consent_valid_after_obtained",
            ),
            models.CheckConstraint(
                condition=Q(given_by="client") | ~Q(representative_name=""),
                name="consent_representative_named",
            ),
        ]
        indexes = [models.Index(fields=["client", "recipient"])]

    def __str__(self) -> str:
        return f"{self.obtained_on:%Y-%m-%d} → {self.recipient_id}"

    def audit_label(self) -> str:
        return f"consent {str(self.public_id)[:8]}"

    def is_valid_on(self, day: date) -> bool:
        return holds(valid_on(day), self)

    @property
    def is_valid(self) -> bool:
        return self.is_valid_on(timezone.localdate())

    @property
    def is_withdrawn(self) -> bool:
        return self.ended_on is not None and self.withdrawn_by_id is not None

    @property
    def category_labels(self) -> list[str]:
        return category_labels(self.categories)


def active_at(moment: datetime) -> Q:
    """An emergency disclosure is in force at ``moment``: made by then, not expired, not ended."""
    return Q(disclosed_at__lte=moment, expires_at__gt=moment) & (
        Q(ended_at__isnull=True) | Q(ended_at__gt=moment)
    )


class EmergencyDisclosureQuerySet(models.QuerySet):
    def active_at(self, moment: datetime | None = None) -> "EmergencyDisclosureQuerySet":
        return self.filter(active_at(moment or timezone.now()))


class EmergencyDisclosure(models.Model):
    """Information passed without consent to protect someone's life or body when consent
    cannot be obtained (個人情報保護法 27条1項2号).

    Time-limited (``expires_at``) and reviewed afterwards by a supervisor of the holding agency.
    Like a consent it is never edited, only ended early or reviewed.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, related_name="emergency_disclosures"
    )
    recipient = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="emergency_disclosures_received",
        verbose_name=_("to agency"),
    )
    categories = models.JSONField(_("data disclosed"), default=list)
    reason = models.TextField(
        _("reason"),
        help_text=_("Whose life or body is at risk, and why consent cannot be obtained now."),
    )
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("disclosed by"),
    )
    disclosed_at = models.DateTimeField(_("disclosed at"))
    expires_at = models.DateTimeField(_("shared until"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    review_note = models.TextField(_("review"), blank=True)

    objects = EmergencyDisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("emergency disclosure")
        verbose_name_plural = _("emergency disclosures")
        ordering = ["-disclosed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("disclosed_at")),
                name="emergency_expires_after_disclosed",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="emergency_review_complete",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="emergency_reason_given"),
        ]
        indexes = [
            models.Index(fields=["client", "recipient", "expires_at"]),
            # The supervisors' review list: unreviewed rows only.
            models.Index(
                fields=["disclosed_at"],
                condition=Q(reviewed_at__isnull=True),
                name="emergency_unreviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disclosed_at:%Y-%m-%d %H:%M} → {self.recipient_id}"

    def audit_label(self) -> str:
        return f"emergency disclosure {str(self.public_id)[:8]}"

    def is_active_at(self, moment: datetime) -> bool:
        return holds(active_at(moment), self)

    @property
    def is_active(self) -> bool:
        return self.is_active_at(timezone.now())

    @property
    def category_labels(self) -> list[str]:
        return category_labels(self.categories)
