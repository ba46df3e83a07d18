"""Supporters dispatched to clients and their home visits (訪問記録)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .clients import Client

# --- Supporters' home visits (訪問記録) ---------------------------------------------------------


class SupporterAssignment(models.Model):
    """A supporter dispatched to a client. Only while it is active does the supporter see the
    client, and then only the name, address, how to approach and their own visits."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="supporter_assignments"
    )
    supporter = models.ForeignKey(
        "agencies.Membership", on_delete=models.PROTECT, related_name="assignments"
    )
    approach_note = models.TextField(
        _("how to approach"),
        blank=True,
        help_text=_(
            "What the supporter should know before visiting, "
            "e.g. ring twice, speak to the mother first."
        ),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "supporter"],
                condition=Q(ended_on__isnull=True),
                name="assignment_active_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supporter_id} → {self.client_id}"


class VisitOutcome(models.TextChoices):
    MET_CLIENT = "met_client", _("Met the client")
    MET_FAMILY = "met_family", _("Met family only")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_NOTE = "left_note", _("No answer; left a note")


class HomeVisit(models.Model):
    """A supporter's household visit. An urgent one flags the case for the caseworker."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="home_visits")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="home_visits"
    )
    visited_on = models.DateField(_("date"), default=timezone.localdate)
    outcome = models.CharField(_("result"), max_length=20, choices=VisitOutcome.choices)
    heard = models.TextField(_("what you heard"), blank=True)
    is_urgent = models.BooleanField(_("urgent"), default=False)
    urgent_note = models.TextField(_("what is urgent"), blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_urgent=False) | ~Q(urgent_note=""), name="visit_urgent_says_why"
            ),
        ]
        indexes = [
            models.Index(
                fields=["client"],
                condition=Q(is_urgent=True, acknowledged_at__isnull=True),
                name="visit_urgent_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} {self.get_outcome_display()}"

    def audit_label(self) -> str:
        return f"visit {str(self.public_id)[:8]}"

    @property
    def no_contact(self) -> bool:
        return self.outcome in {VisitOutcome.NO_ANSWER, VisitOutcome.LEFT_NOTE}
