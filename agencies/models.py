from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    SELF_RELIANCE = "self_reliance", _("Self-reliance consultation agency")
    HIKIKOMORI_CENTER = "hikikomori_center", _("Hikikomori regional support center")
    HIKIKOMORI_STATION = "hikikomori_station", _("Hikikomori support station")
    HIKIKOMORI_PROJECT = "hikikomori_project", _("Hikikomori support project")
    YOUTH_SUPPORT_STATION = "youth_support_station", _("Regional youth support station")
    MENTAL_HEALTH_CENTER = "mental_health_center", _("Mental health and welfare center")
    PUBLIC_HEALTH_CENTER = "public_health_center", _("Public health center")
    SOCIAL_WELFARE_COUNCIL = "social_welfare_council", _("Social welfare council")
    HELLO_WORK = "hello_work", _("Hello Work")
    YOUTH_CONSULTATION_CENTER = (
        "youth_consultation_center",
        _("Children and youth general consultation center"),
    )
    CONSUMER_CENTER = "consumer_center", _("Consumer affairs center")
    EDUCATION = "education", _("Educational institution")
    MEDICAL = "medical", _("Medical institution")
    NPO = "npo", _("NPO or private support organisation")
    FAMILY_OR_PEER_GROUP = "family_or_peer_group", _("Family or peer group")
    WELFARE_COMMISSIONERS = "welfare_commissioners", _("Welfare commissioners council")
    WORK_EXPERIENCE = "work_experience", _("Work experience place")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """An agency (機関): a separate holder of personal information. Never hard-deleted."""

    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_kana", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    SUPPORTER = "supporter", _("Hikikomori supporter")


class Membership(models.Model):
    """A user's place in one agency: one role, plus the separate roster-admin flag.

    Roster rights give no sight of clients: client data is reached only through a caseworker or
    supervisor role.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("agency")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_roster_admin = models.BooleanField(_("roster administrator"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency} ({self.get_role_display()})"
