"""The consultation log (支援経過記録) and the earlier text of corrected records."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .cases import Case
from .clients import HouseholdMember


class Method(models.TextChoices):
    VISIT_OFFICE = "office", _("At the office")
    PHONE = "phone", _("Phone")
    HOME_VISIT = "home_visit", _("Home visit")
    ACCOMPANY = "accompany", _("Accompanying")
    EMAIL = "email", pgettext_lazy("consultation method", "Email")
    ONLINE = "online", _("Online")
    LETTER = "letter", _("Letter")


class Consultation(models.Model):
    """A consultation record (支援経過記録). Corrections keep the earlier text (revisions)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    occurred_on = models.DateField(_("date"), default=timezone.localdate)
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("minutes"), null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    with_client = models.BooleanField(_("with the client"), default=True)
    family_member = models.ForeignKey(
        HouseholdMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("with family member"),
    )
    partner_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("with agency"),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="consultations", verbose_name=_("by")
    )
    summary = models.CharField(_("summary"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    next_contact_on = models.DateField(_("next planned contact"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consultation record")
        verbose_name_plural = _("consultation records")
        ordering = ["-occurred_on", "-start_time", "-id"]
        indexes = [models.Index(fields=["case", "-occurred_on"])]

    def __str__(self) -> str:
        return f"{self.occurred_on:%Y-%m-%d} {self.summary}"

    def audit_label(self) -> str:
        return f"consultation {str(self.public_id)[:8]}"


class ConsultationRevision(models.Model):
    """The text of a consultation record before a correction, with who corrected it and when."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="revisions"
    )
    edited_at = models.DateTimeField(auto_now_add=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    previous = models.JSONField()
    reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.consultation_id} @ {self.edited_at:%Y-%m-%d %H:%M}"
