"""Clients, households, cases and the consultation log.

Whose record is it: every agency is a separate holder of personal information, so a client
belongs to exactly one agency. Another agency supporting the same person keeps its own record,
linked through an accepted referral (the referrals app).
"""

import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.japanese import validate_postal_code


def age_on(birth_date: date | None, day: date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    OTHER = "other", _("Other")
    NO_ANSWER = "no_answer", _("Prefers not to say")


class ContactPreference(models.TextChoices):
    LETTER_ONLY = "letter_only", _("Letters only")
    THROUGH_FAMILY = "through_family", _("Through family")
    NO_PHONE = "no_phone", _("No phone calls")
    NO_LINE = "no_line", _("No LINE or social media")
    EMAIL_OK = "email_ok", _("Email is fine")
    VISIT_OK = "visit_ok", _("Home visits are fine")
    NO_VISIT = "no_visit", _("No home visits")
    TEXT_OK = "text_ok", _("Text messages are fine")


class Household(models.Model):
    """A household (世帯) as this agency knows it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="households"
    )
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return str(_("Household"))

    def audit_label(self) -> str:
        return f"household {str(self.public_id)[:8]}"


class Client(models.Model):
    """The person (本人) as one agency knows them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="clients")
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("household"),
    )
    full_name = models.CharField(_("full name"), max_length=100)
    full_name_kana = models.CharField(
        _("full name (kana)"), max_length=100, help_text=_("Stored in full-width katakana.")
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=20, choices=Gender.choices, blank=True)
    postal_code = models.CharField(
        _("postal code"),
        max_length=8,
        blank=True,
        validators=[validate_postal_code],
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone_alt = models.CharField(_("other phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    contact_preferences = models.JSONField(_("how to contact"), default=list, blank=True)
    contact_note = models.TextField(
        _("contact note"),
        blank=True,
        help_text=_("When and how to reach them, and how not (e.g. only after 3 pm)."),
    )
    wishes = models.TextField(
        _("the person's wishes"), blank=True, help_text=_("In their own words.")
    )
    first_direct_contact_on = models.DateField(
        _("first direct contact"),
        null=True,
        blank=True,
        help_text=_("Empty while the person is known only through family (本人未接触)."),
    )
    # Comparison keys (core.japanese.search_key), written by the services.
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    kana_key = models.CharField(max_length=200, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [models.Index(fields=["agency", "kana_key", "id"])]

    def __str__(self) -> str:
        return self.full_name

    def audit_label(self) -> str:
        # Never the name: the audit trail is read by system admins, who see no client data.
        return f"client {str(self.public_id)[:8]}"

    @property
    def age(self) -> int | None:
        return age_on(self.birth_date, timezone.localdate())

    @property
    def is_contacted(self) -> bool:
        return self.first_direct_contact_on is not None

    @property
    def contact_preference_labels(self) -> list[str]:
        labels = dict(ContactPreference.choices)
        return [labels[value] for value in self.contact_preferences if value in labels]


class Relationship(models.TextChoices):
    SELF = "self", _("The client")
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    OTHER = "other", _("Other")


PARENTS = {Relationship.FATHER, Relationship.MOTHER}


class HouseholdMember(models.Model):
    """A member of a household, relationship (続柄) as seen from the household's main client."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    client = models.ForeignKey(
        Client,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household_memberships",
        verbose_name=_("also a client here"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    birth_year = models.PositiveSmallIntegerField(
        _("year of birth"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    lives_together = models.BooleanField(_("lives together"), default=True)
    in_withdrawal = models.BooleanField(
        _("in a hikikomori state"),
        default=False,
        help_text=_("For members who are not clients here; a client's own case says it."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["birth_year", "id"]

    def __str__(self) -> str:
        return self.name or self.get_relationship_display()

    @property
    def age(self) -> int | None:
        if self.birth_year is None:
            return None
        return timezone.localdate().year - self.birth_year


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
