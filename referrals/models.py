"""Referrals between agencies (つなぎ), joint support, and the records the law asks for.

Sending passes a snapshot of the consented categories and writes the provision record
(第三者提供記録, 個人情報保護法 29条) in the same transaction; accepting creates the receiving
agency's own client record and writes its confirmation record (確認記録, 30条).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose


class ReferralType(models.TextChoices):
    TSUNAGI = "tsunagi", _("Referral with information (tsunagi)")
    INTRODUCTION = "introduction", _("Introduction only")
    JOINT_SUPPORT = "joint", _("Joint support")


# Types that carry personal information, each needing the person's consent for its own purpose:
# a つなぎ a consent given for a つなぎ, 共同支援 one given for joint support.
CONSENT_PURPOSE = {
    ReferralType.TSUNAGI: Purpose.TSUNAGI,
    ReferralType.JOINT_SUPPORT: Purpose.JOINT_SUPPORT,
}
NEEDS_CONSENT = frozenset(CONSENT_PURPOSE)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_SUPPORT = "in_support", _("In support")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# What the receiving side may look at regardless of today's consent: once accepted, what
# crossed is the receiving agency's own record (it wrote a confirmation record for it).
RECEIVED = frozenset({Status.ACCEPTED, Status.IN_SUPPORT, Status.COMPLETED})


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SOON = "soon", _("Soon")
    URGENT = "urgent", _("Urgent")


class Referral(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=20, choices=ReferralType.choices)
    from_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("to agency"),
    )
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    reason = models.TextField(_("reason"))
    client_wishes = models.TextField(
        _("the person's wishes"), help_text=_("In the person's own words.")
    )
    urgency = models.CharField(
        _("urgency"), max_length=20, choices=Urgency.choices, default=Urgency.NORMAL
    )
    categories = models.JSONField(_("information sent"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_referrals",
        verbose_name=_("assigned worker"),
    )
    receiving_client = models.ForeignKey(
        "cases.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_received",
        verbose_name=_("the receiving agency's record"),
    )
    # What crossed at sending: the consented categories of the record, as they were.
    snapshot = models.JSONField(default=dict, blank=True)
    first_contact_on = models.DateField(_("first interview held on"), null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_agency=models.F("to_agency")), name="referral_to_another_agency"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="referral_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | Q(first_contact_on__isnull=False)
                | Q(type="introduction"),
                name="referral_completed_after_first_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["to_agency", "status", "sent_at", "id"]),
            models.Index(fields=["from_agency", "status", "sent_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.from_agency_id}→{self.to_agency_id}"

    @property
    def links_records(self) -> bool:
        """An accepted つなぎ or 共同支援 joins the two agencies' records of the person: each may
        open the other's live view, as far as the person's consent allows."""
        return self.type in NEEDS_CONSENT and self.status in RECEIVED

    def audit_label(self) -> str:
        return f"referral {str(self.public_id)[:8]}"

    @property
    def needs_consent(self) -> bool:
        return self.type in NEEDS_CONSENT

    @property
    def consent_purpose(self) -> str | None:
        """The purpose a consent must have been given for to let this referral carry the
        person's information (None: an introduction carries none)."""
        return CONSENT_PURPOSE.get(self.type)


class ProvisionRecord(models.Model):
    """第三者提供記録 (個人情報保護法 29条), written by the sender in the sending transaction."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="provision")
    provided_at = models.DateTimeField()
    provider = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("cases.Client", on_delete=models.PROTECT, related_name="provisions")
    categories = models.JSONField()
    consents = models.JSONField(help_text="public ids of the consents it rested on")
    provided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-provided_at", "-id"]
        # The agency's records list and its CSV export: newest first, read by keyset.
        indexes = [
            models.Index(fields=["provider", "-provided_at", "-id"], name="provision_by_agency")
        ]

    def __str__(self) -> str:
        return f"{self.provided_at:%Y-%m-%d} {self.provider_id}→{self.recipient_id}"


class ConfirmationRecord(models.Model):
    """確認記録 (個人情報保護法 30条), written by the recipient when it accepts."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="confirmation")
    received_at = models.DateTimeField()
    recipient = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, related_name="confirmations"
    )
    categories = models.JSONField()
    how_obtained = models.TextField(
        help_text="取得の経緯: how the provider obtained the data (the consent it rested on)"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-received_at", "-id"], name="confirmation_by_agency")
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d} {self.provider_id}→{self.recipient_id}"


class ReferralMessage(models.Model):
    """The thread between the two agencies on one referral."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.created_at:%Y-%m-%d %H:%M}"


class JointRoleKind(models.TextChoices):
    """The roles agencies divide between them in joint support (共同支援)."""

    EMPLOYMENT = "employment", _("Employment support")
    WATCHING_LISTENING = "watching_listening", _("Watching over and listening")
    FINANCE = "finance", _("Household finances")
    HOUSING = "housing", _("Housing and residence")
    PLACE_TO_BE = "place_to_be", _("Place to be (ibasho)")
    FAMILY = "family", _("Family support")
    VISITING = "visiting", _("Visiting")
    OTHER = "other", _("Other")


class JointRole(models.Model):
    """What one agency takes on in a joint support (役割分担), with its contact and period.

    Each agency records its own roles; the agency must be one of the referral's two (checked by
    ``referrals.services``: a constraint cannot look across the foreign key).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="joint_roles")
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    role = models.CharField(_("role"), max_length=30, choices=JointRoleKind.choices)
    note = models.CharField(_("what it covers"), max_length=300, blank=True)
    contact_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    contact_name = models.CharField(
        _("contact person (name)"),
        max_length=100,
        blank=True,
        help_text=_("When the contact person does not use Tsunagu."),
    )
    period_from = models.DateField(_("starts on"))
    period_until = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("joint support role")
        verbose_name_plural = _("joint support roles")
        ordering = ["period_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_user__isnull=False) | ~Q(contact_name=""),
                name="joint_role_has_contact",
            ),
            models.CheckConstraint(
                condition=Q(period_until__isnull=True)
                | Q(period_until__gte=models.F("period_from")),
                name="joint_role_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.agency_id})"

    def audit_label(self) -> str:
        return f"joint role {str(self.public_id)[:8]}"

    @property
    def contact(self) -> str:
        return self.contact_user.full_name if self.contact_user_id else self.contact_name


class SupportPolicy(models.Model):
    """One version of the support policy both agencies align on (支援方針の摺り合わせ).

    Never changed: a new text, or the other side's agreement, is a new row, so the rows of a
    referral are its history. The latest row is the policy in force once both sides agreed.
    """

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="support_policies"
    )
    text = models.TextField(_("support policy"))
    agreed_by_sender = models.BooleanField(_("agreed by the referring agency"), default=False)
    agreed_by_recipient = models.BooleanField(_("agreed by the receiving agency"), default=False)
    # The side that wrote this version: one person may be staff of both agencies.
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("support policy")
        verbose_name_plural = _("support policies")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.created_at:%Y-%m-%d %H:%M}"

    def audit_label(self) -> str:
        return f"support policy {self.pk}"

    @property
    def agreed_by_both(self) -> bool:
        return self.agreed_by_sender and self.agreed_by_recipient
