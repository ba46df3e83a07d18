"""Reminders: one live row per (kind, target, due date, recipient), so none is ever created
twice. A cancelled row does not count: when its condition comes back, the reminder is made anew.

The row holds no personal information: the text a person reads is built when it is shown, from
the kind and the target, and the email says only which kinds and how many.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    NEXT_CONTACT_DUE = "next_contact_due", _("Planned contact is due")
    NEXT_CONTACT_OVERDUE = "next_contact_overdue", _("Planned contact is overdue")
    NO_CONTACT_30 = "no_contact_30", _("No contact for 30 days")
    NO_CONTACT_60_SUPERVISOR = "no_contact_60_supervisor", _("No contact for 60 days")
    REFERRAL_UNANSWERED = "referral_unanswered", _("Referral not answered")
    PLAN_REVIEW_DUE = "plan_review_due", _("Plan review is coming up")
    CONSENT_EXPIRING = "consent_expiring", _("Consent is about to expire")
    FIRST_CONTACT_UNCONFIRMED = "first_contact_unconfirmed", _("First interview not confirmed")
    EMERGENCY_REVIEW = "emergency_review", _("Emergency disclosure to review")
    MEETING_TOMORROW = "meeting_tomorrow", _("Support coordination meeting tomorrow")
    VISITS_WITHOUT_CONTACT = "visits_without_contact", _("Supporter visits without contact")


class TargetType(models.TextChoices):
    CASE = "case", _("Case")
    REFERRAL = "referral", _("Referral")
    PLAN = "plan", _("Support plan")
    CONSENT = "consent", _("Consent")
    EMERGENCY = "emergency", _("Emergency disclosure")
    MEETING = "meeting", _("Support coordination meeting")


class Reminder(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    target_type = models.CharField(_("about"), max_length=20, choices=TargetType.choices)
    # The target's public id: never a name, and stable across renames.
    target_id = models.CharField(_("target id"), max_length=64)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reminders",
        verbose_name=_("recipient"),
    )
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(_("created at"))
    # Not before this moment by email: the recipient's delivery preference (a daily digest, no
    # email on days off) or a retry's backoff. The notification centre shows the row at once.
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    # In flight: a sender claimed the row and is sending. A claim older than the grace period
    # belongs to a sender that died (kill -9 between claim and send): it may be claimed again.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set when the condition went away before sending: such a row is never sent nor shown.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The server refused this email for good (a 5xx for the recipient or the data) as many
    # times as REMINDERS_SEND_MAX_ATTEMPTS: no sender tries again until an operator re-queues
    # it. A transient failure (SMTP down, a 4xx) never sets this: it is retried until it goes.
    gave_up_at = models.DateTimeField(_("gave up at"), null=True, blank=True)
    # When a sweep or the reconciler last put the row on the broker (or a failed send queued
    # its retry, for the moment the retry is due): neither queues it again within the grace
    # period, so a backlog does not fill Redis with copies of the same message.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            # Live rows only: a row cancelled because its condition went (a meeting moved off
            # tomorrow, a case closed) must not stop the same reminder when it comes back.
            models.UniqueConstraint(
                fields=["kind", "target_type", "target_id", "due_on", "recipient"],
                condition=Q(cancelled_at__isnull=True),
                name="reminder_once",
            ),
        ]
        indexes = [
            # The notification centre: one person's reminders in one agency, newest first.
            models.Index(fields=["recipient", "agency", "-created_at", "-id"]),
            # The sender's and the sweep's work list: pending rows only.
            models.Index(
                fields=["id"],
                condition=Q(sent_at__isnull=True, cancelled_at__isnull=True),
                name="reminder_pending",
            ),
            # The sender's chunks (a recipient's rows together) and the reconciler's late rows.
            models.Index(
                fields=["recipient", "id"],
                condition=Q(sent_at__isnull=True, cancelled_at__isnull=True),
                name="reminder_pending_recipient",
            ),
            models.Index(
                fields=["send_after"],
                condition=Q(sent_at__isnull=True, cancelled_at__isnull=True),
                name="reminder_pending_send_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}:{self.target_id} @ {self.due_on}"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("As they come")
    DIGEST = "digest", _("Once a day, as a digest")


class DeliveryPreference(models.Model):
    """How one person wants reminder emails. No row means the defaults: as they come, every
    day. The notification centre is not affected: it always shows reminders at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    delivery = models.CharField(
        _("reminder emails"), max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATE
    )
    hour = models.PositiveSmallIntegerField(
        _("hour of the digest"),
        default=8,
        help_text=_(
            "Japan time, 0–23. Also when emails held over a day off go out the next business day."
        ),
    )
    quiet_on_days_off = models.BooleanField(_("no emails on weekends and holidays"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reminder delivery preference")
        verbose_name_plural = _("reminder delivery preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(hour__gte=0, hour__lte=23), name="reminder_preference_hour_of_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.delivery}"
