"""Support coordination meetings (支援調整会議) and what they decided for each case."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .cases import Case
from .plans import Plan

# --- 支援調整会議 ---------------------------------------------------------------------------------


class Meeting(models.Model):
    """A support coordination meeting (支援調整会議), held with the clients' consent."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    minutes = models.TextField(pgettext_lazy("meeting record", "minutes"), blank=True)
    participant_agencies = models.ManyToManyField(
        "agencies.Agency", related_name="+", blank=True, verbose_name=_("participating agencies")
    )
    participant_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True, verbose_name=_("participants")
    )
    other_participants = models.CharField(
        _("other participants"),
        max_length=300,
        blank=True,
        help_text=_("People not in the roster, e.g. the client or family."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("support coordination meeting")
        verbose_name_plural = _("support coordination meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d}"

    def audit_label(self) -> str:
        return f"meeting {str(self.public_id)[:8]}"


class Decision(models.TextChoices):
    PLAN_APPROVED = "plan_approved", _("Plan approved")
    ROLES_SPLIT = "roles_split", _("Roles divided")
    PLAN_TO_REVISE = "plan_to_revise", _("Plan to be revised")
    CONTINUE = "continue", _("Continue as is")
    CLOSE = "close", _("Support to end")


class MeetingCase(models.Model):
    """A case discussed at a meeting, with what was decided for it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="case_items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="meeting_items")
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan discussed"),
    )
    decisions = models.JSONField(_("decisions"), default=list, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "case"], name="meeting_case_once"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.case_id}"

    @property
    def decision_labels(self) -> list[str]:
        labels = dict(Decision.choices)
        return [labels[value] for value in self.decisions if value in labels]
