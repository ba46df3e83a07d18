"""Support plans (プラン): versions, goals, items and their reviews (評価)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case, Outcome

# --- Support plans (プラン) ----------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed by the client")
    APPROVED = "approved", _("Approved at a coordination meeting")
    SUPERSEDED = "superseded", _("Replaced by a revision")


class AgreementMethod(models.TextChoices):
    SIGNED = "signed", _("Signed form")
    ORAL = "oral", _("Orally")
    ELECTRONIC = "electronic", _("Electronically")


class Program(models.TextChoices):
    """The self-reliance support programs a plan item may use (domain.md)."""

    SELF_RELIANCE_CONSULTATION = (
        "self_reliance_consultation",
        _("Self-reliance consultation support"),
    )
    WORK_PREPARATION = "work_preparation", _("Work preparation support")
    CERTIFIED_WORK_TRAINING = "certified_work_training", _("Certified work training")
    HOUSEHOLD_FINANCE = "household_finance", _("Household finance improvement support")
    HOUSING_BENEFIT = "housing_benefit", _("Housing security benefit")
    CHILDREN_LEARNING = "children_learning", _("Learning and life support for children")
    HOUSING_SUPPORT = "housing_support", _("Housing support")
    HIKIKOMORI_SUPPORT = "hikikomori_support", _("Hikikomori support")
    OTHER = "other", _("Other resources")


class Plan(models.Model):
    """One version of a client's support plan (プラン兼事業等利用申込書).

    A revision (再プラン) is a new row with the next version number; the earlier version stays
    readable and is never edited once the client agreed to it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    revision_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="revised_by"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    client_words = models.TextField(
        _("the client's own words"),
        blank=True,
        help_text=_("What the person wants, kept verbatim."),
    )
    review_on = models.DateField(_("review date"), null=True, blank=True)
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    agreement_method = models.CharField(
        _("how the client agreed"), max_length=20, choices=AgreementMethod.choices, blank=True
    )
    approved_at = models.ForeignKey(
        "Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_plans",
        verbose_name=_("approved at"),
    )
    revision_reason = models.TextField(_("why the plan was revised"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("support plan")
        verbose_name_plural = _("support plans")
        ordering = ["case", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_version_once"),
            models.CheckConstraint(
                condition=~Q(status="agreed") | Q(agreed_on__isnull=False),
                name="plan_agreed_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False),
                name="plan_approved_has_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"

    def audit_label(self) -> str:
        return f"plan {str(self.public_id)[:8]} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == PlanStatus.DRAFT


class PlanGoal(models.Model):
    """A goal of the plan, in the client's own words."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(_("goal"))

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class PlanItem(models.Model):
    """A support item: what, by which agency (this one or a partner), which program, how often,
    who is responsible."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    goal = models.ForeignKey(
        PlanGoal, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    what = models.CharField(_("support"), max_length=300)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("by agency")
    )
    program = models.CharField(_("program"), max_length=40, choices=Program.choices, blank=True)
    frequency = models.CharField(_("how often"), max_length=100, blank=True)
    responsible = models.CharField(_("responsible person"), max_length=100, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.what


class Achievement(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    PARTLY = "partly", _("Partly achieved")
    NOT_YET = "not_yet", _("Not yet")
    CHANGED = "changed", _("Goal changed")


class PlanReview(models.Model):
    """A plan review (評価): per goal how far it went, in outcomes not only about work."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"), default=timezone.localdate)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("overall note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.plan} {self.reviewed_on}"


class GoalReview(models.Model):
    review = models.ForeignKey(PlanReview, on_delete=models.CASCADE, related_name="goal_reviews")
    goal = models.ForeignKey(PlanGoal, on_delete=models.PROTECT, related_name="reviews")
    achievement = models.CharField(_("how far"), max_length=20, choices=Achievement.choices)
    outcomes = models.JSONField(_("outcomes"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "goal"], name="goal_review_once"),
        ]

    def __str__(self) -> str:
        return self.get_achievement_display()

    @property
    def outcome_labels(self) -> list[str]:
        labels = dict(Outcome.choices)
        return [labels[value] for value in self.outcomes if value in labels]
