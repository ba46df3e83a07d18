"""The 支援会議: a standing body a municipality sets up whose members are bound to
confidentiality by law (生活困窮者自立支援法 9条; the same kind under 社会福祉法 106条の6), so they
may exchange information about people not yet connected to support without consent.

Sharing is narrow on purpose: only for the clients put on a session's agenda, only the
categories chosen for them, only between the session's sharing dates, and only to agencies that
are members on the day. The dates are written once, here (``standing_on``, ``member_on``).
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validity import holds


class LegalBasis(models.TextChoices):
    SELF_RELIANCE_ACT_9 = "self_reliance_9", _("Act on Self-Reliance Support, Article 9")
    SOCIAL_WELFARE_ACT_106_6 = "social_welfare_106_6", _("Social Welfare Act, Article 106-6")


def standing_on(day: date) -> Q:
    """A council stands on ``day``: established by then and not yet ended."""
    return Q(established_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def member_on(day: date) -> Q:
    """An agency is a member on ``day``: joined by then and not yet left (leaving ends its
    sight from that day on)."""
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gt=day))


class SupportCouncilQuerySet(models.QuerySet):
    def standing_on(self, day: date | None = None) -> "SupportCouncilQuerySet":
        return self.filter(standing_on(day or timezone.localdate()))


class CouncilMemberQuerySet(models.QuerySet):
    def current_on(self, day: date | None = None) -> "CouncilMemberQuerySet":
        return self.filter(member_on(day or timezone.localdate()))


class SupportCouncil(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(
        "agencies.Municipality",
        on_delete=models.PROTECT,
        related_name="support_councils",
        verbose_name=_("set up by"),
    )
    name = models.CharField(_("name"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    chair_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="chaired_councils",
        verbose_name=_("secretariat"),
        help_text=_("The agency that runs the council: members, sessions and agenda."),
    )
    confidentiality_note = models.TextField(
        _("confidentiality"),
        blank=True,
        help_text=_("How members are bound to confidentiality (the ordinance or rules)."),
    )
    established_on = models.DateField(_("established on"), default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SupportCouncilQuerySet.as_manager()

    class Meta:
        verbose_name = _("support council")
        verbose_name_plural = _("support councils")
        ordering = ["municipality__code", "name"]

    def __str__(self) -> str:
        return self.name

    def is_standing_on(self, day: date | None = None) -> bool:
        return holds(standing_on(day or timezone.localdate()), self)


class CouncilMember(models.Model):
    """An agency's membership of a council, with dates: leaving ends its sight at once."""

    council = models.ForeignKey(SupportCouncil, on_delete=models.PROTECT, related_name="members")
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="council_memberships"
    )
    joined_on = models.DateField(_("member from"), default=timezone.localdate)
    # The day the agency left: from that day on it is no member and sees nothing.
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = CouncilMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        constraints = [
            models.UniqueConstraint(
                fields=["council", "agency"],
                condition=Q(left_on__isnull=True),
                name="council_member_once",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="council_member_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.council_id}:{self.agency_id}"

    def is_current_on(self, day: date | None = None) -> bool:
        return holds(member_on(day or timezone.localdate()), self)


class CouncilSession(models.Model):
    """One meeting of the council. What is shared for it is shared only between
    ``sharing_from`` and ``sharing_until``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    council = models.ForeignKey(SupportCouncil, on_delete=models.PROTECT, related_name="sessions")
    held_on = models.DateField(_("held on"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    sharing_from = models.DateField(_("shared from"))
    sharing_until = models.DateField(_("shared until"))
    minutes = models.TextField(_("minutes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("council session")
        verbose_name_plural = _("council sessions")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sharing_until__gte=models.F("sharing_from")),
                name="council_session_sharing_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.council_id} {self.held_on:%Y-%m-%d}"


class AgendaItem(models.Model):
    """A client put on a session's agenda by the agency holding the record, with the
    categories shared with the members for that session."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(CouncilSession, on_delete=models.PROTECT, related_name="agenda")
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, related_name="council_agenda_items"
    )
    categories = models.JSONField(_("data shared"), default=list)
    reason = models.TextField(_("why the council discusses this person"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("taken off the agenda at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(fields=["session", "client"], name="agenda_client_once"),
        ]
        indexes = [models.Index(fields=["client", "session"])]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.client_id}"

    def audit_label(self) -> str:
        return f"agenda item {str(self.public_id)[:8]}"
