"""Support cases: how they started, their topics (相談内容), stages and every move between them,
and how they closed."""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .clients import Client


class CaseOrigin(models.TextChoices):
    WALK_IN = "walk_in", _("Came in themselves")
    FAMILY = "family", _("Consultation by family")
    REFERRAL = "referral", _("Referred by another agency")
    OUTREACH = "outreach", _("Outreach")
    SUPPORTER_VISIT = "supporter_visit", _("Supporter's home visit")
    PHONE = "phone", _("Phone call")
    OTHER = "other", _("Other")


class Topic(models.TextChoices):
    """相談内容: the MHLW intake sheet's list."""

    HEALTH = "health", _("Illness, health, disability")
    HOUSING = "housing", _("Housing")
    INCOME = "income", _("Income and living costs")
    RENT_LOAN = "rent_loan", _("Rent or loan payments")
    TAX_UTILITIES = "tax_utilities", _("Taxes and utility bills")
    DEBT = "debt", _("Debt")
    JOB_SEARCH = "job_search", _("Finding work")
    WORKPLACE = "workplace", _("Worries or trouble at work")
    COMMUNITY = "community", _("Relations with the community")
    FAMILY = "family", _("Family relations")
    CHILDCARE = "childcare", _("Raising children")
    CARE = "care", _("Caring for someone")
    HIKIKOMORI = "hikikomori", _("Hikikomori, school refusal")
    ABUSE = "abuse", _("Domestic violence, abuse")
    FOOD = "food", _("No food")
    OTHER = "other", _("Other")


class SupportType(models.TextChoices):
    PLAN = "plan", _("Continuing support with a plan")
    NO_PLAN = "no_plan", _("Continuing support without a plan")
    INFORMATION = "information", _("Information or introduction only")


class Stage(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    PLANNING = "planning", _("Planning")
    SUPPORT = "support", _("Support")
    MONITORING = "monitoring", _("Monitoring and review")
    CLOSED = "closed", _("Closed")
    SUSPENDED = "suspended", _("Suspended")


# The working order of the stages; a move to an earlier one is a move back.
STAGE_ORDER = [Stage.INTAKE, Stage.ASSESSMENT, Stage.PLANNING, Stage.SUPPORT, Stage.MONITORING]


class WithdrawalDuration(models.TextChoices):
    UNDER_6_MONTHS = "lt6m", _("Under 6 months")
    UNDER_1_YEAR = "6m1y", _("6 months to 1 year")
    UNDER_3_YEARS = "1y3y", _("1 to 3 years")
    UNDER_5_YEARS = "3y5y", _("3 to 5 years")
    UNDER_10_YEARS = "5y10y", _("5 to 10 years")
    TEN_YEARS_OR_MORE = "10y", _("10 years or more")
    UNKNOWN = "unknown", _("Unknown")


class WithdrawalTrigger(models.TextChoices):
    SCHOOL_REFUSAL = "school_refusal", _("School refusal")
    JOB_HUNTING = "job_hunting", _("Setback in job hunting")
    WORKPLACE = "workplace", _("Relations at work")
    ILLNESS = "illness", _("Illness")
    RETIREMENT = "retirement", _("Leaving a job")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class GoingOut(models.TextChoices):
    NEARBY_FOR_HOBBIES = "hobbies", _("Goes out for hobbies")
    NEARBY_SHOP = "shop", _("Goes out to a nearby shop")
    ROOM_ONLY_HOUSE = "house", _("Leaves the room, not the house")
    ROOM_ONLY = "room", _("Hardly leaves the room")
    UNKNOWN = "unknown", _("Unknown")


class Outcome(models.TextChoices):
    """Closure outcomes: the goal is autonomy (自律), not only employment."""

    SOCIAL_PARTICIPATION = "social_participation", _("Connected to a place to take part")
    FAMILY_IMPROVED = "family_improved", _("Family relations improved")
    LIFE_STABILISED = "life_stabilised", _("Daily life stabilised")
    EMPLOYED = "employed", _("Found work")
    TRAINING = "training", _("Started training or study")
    MOVED_TO_OTHER_AGENCY = "other_agency", _("Moved on to another agency")
    CONTACT_LOST = "contact_lost", _("Contact lost")
    CLIENT_ENDED = "client_ended", _("Ended at the person's wish")
    MOVED_AWAY = "moved_away", _("Moved away")
    OTHER = "other", _("Other")


class Case(models.Model):
    """A support case (支援ケース). A client has at most one open case at a time."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="cases")
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    origin = models.CharField(_("how it started"), max_length=30, choices=CaseOrigin.choices)
    support_type = models.CharField(
        _("support type"),
        max_length=20,
        choices=SupportType.choices,
        default=SupportType.NO_PLAN,
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.INTAKE)
    primary_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="primary_cases",
        verbose_name=_("primary caseworker"),
    )
    co_workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="co_cases", blank=True, verbose_name=_("co-workers")
    )
    withdrawal_duration = models.CharField(
        _("how long in withdrawal"), max_length=10, choices=WithdrawalDuration.choices, blank=True
    )
    withdrawal_triggers = models.JSONField(_("what started it"), default=list, blank=True)
    going_out = models.CharField(
        _("how often they go out"), max_length=10, choices=GoingOut.choices, blank=True
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcomes = models.JSONField(_("outcomes"), default=list, blank=True)
    closure_note = models.TextField(_("closure note"), blank=True)
    # Denormalised by the consultation service: the dashboard sorts and flags on them.
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    next_contact_on = models.DateField(_("next planned contact"), null=True, blank=True)
    # The caseload's sort key, kept by the database: the next contact, and cases without one
    # last (date.max). A plain column, so one index serves the order and the keyset bound;
    # NULL itself cannot be a keyset bound.
    follow_up_on = models.GeneratedField(
        expression=Coalesce("next_contact_on", Value(date.max)),
        output_field=models.DateField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=~Q(stage="closed"),
                name="case_one_open_per_client",
                violation_error_message=_("This client already has an open case."),
            ),
            models.CheckConstraint(
                condition=Q(stage="closed", closed_on__isnull=False)
                | (~Q(stage="closed") & Q(closed_on__isnull=True)),
                name="case_closed_iff_closed_on",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "primary_worker", "stage"]),
            # The agency's caseload: its open cases in follow-up order, page after page, and
            # their counts from the index alone. (Mine is the index above plus the primary key.)
            models.Index(
                fields=["agency", "follow_up_on", "id"],
                condition=~Q(stage="closed"),
                name="case_open_follow_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} ({self.opened_on:%Y-%m-%d})"

    def audit_label(self) -> str:
        return f"case {str(self.public_id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED

    @property
    def outcome_labels(self) -> list[str]:
        labels = dict(Outcome.choices)
        return [labels[value] for value in self.outcomes if value in labels]

    @property
    def is_hikikomori(self) -> bool:
        return bool(self.withdrawal_duration) or any(
            t.topic == Topic.HIKIKOMORI for t in self.topics.all()
        )


class CaseTopic(models.Model):
    """One 相談内容 of a case; exactly one may be the main one."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="topics")
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    is_main = models.BooleanField(_("main topic"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "topic"], name="case_topic_once"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(is_main=True), name="case_one_main_topic"
            ),
        ]
        ordering = ["-is_main", "id"]

    def __str__(self) -> str:
        return self.get_topic_display()


class StageMove(models.Model):
    """Every move of a case between stages, forward or back, with its reason. Never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_moves")
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    moved_on = models.DateField(_("date"), default=timezone.localdate)
    moved_at = models.DateTimeField(auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["-moved_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"

    @property
    def is_backward(self) -> bool:
        if self.from_stage == Stage.CLOSED:
            return True  # a reopening
        if self.from_stage in STAGE_ORDER and self.to_stage in STAGE_ORDER:
            return STAGE_ORDER.index(self.to_stage) < STAGE_ORDER.index(self.from_stage)
        return False
