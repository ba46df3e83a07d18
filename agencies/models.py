import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.japanese import validate_postal_code

from .codes import validate_local_government_code


class MunicipalityKind(models.TextChoices):
    PREFECTURE = "prefecture", _("Prefecture")
    DESIGNATED_CITY = "designated_city", _("Designated city")
    CORE_CITY = "core_city", _("Core city")
    CITY = "city", _("City")
    SPECIAL_WARD = "special_ward", _("Special ward")
    TOWN = "town", _("Town")
    VILLAGE = "village", _("Village")


class Municipality(models.Model):
    """A local government (地方公共団体), prefectures included, keyed by its 6-digit code.

    Kind and welfare office are derived on import; a system admin may correct them, and the
    ``*_is_manual`` flags keep a re-import from overwriting the correction.
    """

    code = models.CharField(
        _("local government code"),
        max_length=6,
        unique=True,
        validators=[validate_local_government_code],
    )
    prefecture = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="municipalities",
        limit_choices_to={"kind": MunicipalityKind.PREFECTURE},
        verbose_name=_("prefecture"),
    )
    name = models.CharField(_("name"), max_length=50)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MunicipalityKind.choices)
    has_welfare_office = models.BooleanField(_("has a welfare office"), default=False)
    kind_is_manual = models.BooleanField(_("kind corrected by hand"), default=False)
    welfare_office_is_manual = models.BooleanField(
        _("welfare office corrected by hand"), default=False
    )
    search_key = models.CharField(max_length=200, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="municipality_code_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(kind=MunicipalityKind.PREFECTURE, prefecture__isnull=True)
                | (~Q(kind=MunicipalityKind.PREFECTURE) & Q(prefecture__isnull=False)),
                name="municipality_prefecture_iff_not_prefecture",
            ),
        ]

    def __str__(self) -> str:
        if self.prefecture_id and self.kind != MunicipalityKind.PREFECTURE:
            return f"{self.prefecture.name}{self.name}"
        return self.name


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


class Operation(models.TextChoices):
    DIRECT = "direct", _("Run directly")
    CONTRACTED = "contracted", _("Contracted out")


class AgencyFunction(models.TextChoices):
    # Hikikomori support functions
    CONSULTATION = "consultation", _("① Consultation support")
    PLACE_TO_BE = "place_to_be", _("② Places to be (ibasho)")
    NETWORKING = "networking", _("③ Local networks")
    FAMILY_PEER_MEETINGS = "family_peer_meetings", _("④ Peer and family meetings")
    PUBLIC_AWARENESS = "public_awareness", _("⑤ Public awareness")
    MULTIDISCIPLINARY_TEAM = "multidisciplinary_team", _("Multidisciplinary team")
    MUNICIPAL_BACKUP = "municipal_backup", _("Backup for municipalities")
    # Self-reliance support programs
    SELF_RELIANCE_CONSULTATION = (
        "self_reliance_consultation",
        _("Self-reliance consultation support"),
    )
    WORK_PREPARATION = "work_preparation", _("Work preparation support")
    HOUSEHOLD_FINANCE = "household_finance", _("Household finance improvement support")
    CERTIFIED_WORK_TRAINING = "certified_work_training", _("Certified work training")
    HOUSING_BENEFIT = "housing_benefit", _("Housing security benefit")
    CHILDREN_LEARNING = "children_learning", _("Learning and life support for children")
    HOUSING_SUPPORT = "housing_support", _("Housing support")


class AgencyQuerySet(models.QuerySet):
    def active(self, on=None):
        day = on or timezone.localdate()
        return self.filter(
            Q(active_until__isnull=True) | Q(active_until__gte=day), active_from__lte=day
        )


class Agency(models.Model):
    """An agency (機関): a separate holder of personal information. Never hard-deleted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="agencies",
        verbose_name=_("implementing municipality"),
        null=True,
        blank=True,
    )
    operation = models.CharField(
        _("operation"), max_length=20, choices=Operation.choices, default=Operation.DIRECT
    )
    contractor_name = models.CharField(_("contractor"), max_length=200, blank=True)
    service_area = models.ManyToManyField(
        Municipality, related_name="served_by", blank=True, verbose_name=_("service area")
    )
    postal_code = models.CharField(
        _("postal code"),
        max_length=8,
        blank=True,
        validators=[validate_postal_code],
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    public_note = models.TextField(
        _("note for clients"),
        blank=True,
        help_text=_("How to get there, whether home visits are possible, and the like."),
    )
    receives_referrals = models.BooleanField(_("receives referrals through Tsunagu"), default=True)
    consent_validity_days = models.PositiveSmallIntegerField(
        _("consent valid for (days)"),
        default=365,
        help_text=_("How long a recorded consent stays valid unless another end date is given."),
    )
    referral_alert_business_days = models.PositiveSmallIntegerField(
        _("referral answer due within (business days)"),
        default=3,
        help_text=_(
            "A received referral still unanswered after this many business days is marked in "
            "the queue."
        ),
    )
    # Reminder thresholds, with the defaults a new agency starts from: each agency tunes its
    # own, through the settings page its roster admins keep. The sweep reads them per agency.
    next_contact_overdue_days = models.PositiveSmallIntegerField(
        _("planned contact overdue after (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    no_contact_days = models.PositiveSmallIntegerField(
        _("no contact reminder after (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    no_contact_supervisor_days = models.PositiveSmallIntegerField(
        _("no contact: tell the supervisors after (days)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    first_contact_business_days = models.PositiveSmallIntegerField(
        _("first interview due within (business days)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    plan_review_days_before = models.PositiveSmallIntegerField(
        _("plan review reminder (days before)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
    )
    consent_expiring_days_before = models.PositiveSmallIntegerField(
        _("consent expiry reminder (days before)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
    )
    visits_without_contact = models.PositiveSmallIntegerField(
        _("supporter visits without contact in a row"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
    )
    # Supervisors, roster admins and system admins always log in with a second factor; this
    # extends it to everyone acting for the agency (agencies.permissions.must_use_second_factor).
    require_two_factor = models.BooleanField(
        _("two-factor login for all staff"),
        default=False,
        db_default=False,
        help_text=_(
            "Everyone working for the agency logs in with a one-time code from an "
            "authenticator app. Supervisors and roster admins always do."
        ),
    )
    closed_year_end = models.BooleanField(
        _("closed over the year end (12/29–1/3)"),
        default=True,
        help_text=_("Business days skip the year-end and New Year closure."),
    )
    active_from = models.DateField(_("active from"), default=timezone.localdate)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    search_key = models.CharField(max_length=500, editable=False, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_kana", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="agency_active_until_after_from",
            ),
            models.CheckConstraint(
                condition=~Q(operation=Operation.CONTRACTED) | ~Q(contractor_name=""),
                name="agency_contracted_names_contractor",
            ),
            models.CheckConstraint(
                condition=Q(no_contact_supervisor_days__gt=models.F("no_contact_days")),
                name="agency_supervisor_told_after_caseworker",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def functions_in_order(self) -> list["AgencyFunctionEntry"]:
        """The functions in the notices' order (①…⑤, then the programs), not alphabetical."""
        order = {value: index for index, value in enumerate(AgencyFunction.values)}
        return sorted(self.function_entries.all(), key=lambda entry: order[entry.function])

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.active_from <= today and (
            self.active_until is None or self.active_until >= today
        )


class AgencyFunctionEntry(models.Model):
    """One function an agency offers (rows, so the directory can filter on them)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="function_entries")
    function = models.CharField(_("function"), max_length=40, choices=AgencyFunction.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "function"], name="agency_function_once"),
        ]

    def __str__(self) -> str:
        return self.get_function_display()


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    SUPPORTER = "supporter", _("Hikikomori supporter")
    # Office staff who keep the roster and see no client: pair it with the roster-admin flag.
    ADMINISTRATIVE = "administrative", _("Administrative staff")


class Membership(models.Model):
    """A user's place in one agency: one role, plus the separate roster-admin flag.

    Roster rights give no sight of clients: client data is reached only through a caseworker or
    supervisor role.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency} ({self.get_role_display()})"


class SupporterProfile(models.Model):
    """What a hikikomori supporter's membership carries beyond the role."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="supporter_profile"
    )
    is_peer_supporter = models.BooleanField(_("peer supporter"), default=False)
    dispatching_municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispatching municipality"),
    )
    training_completed_on = models.DateField(_("training completed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("supporter profile")
        verbose_name_plural = _("supporter profiles")

    def __str__(self) -> str:
        return str(self.membership.user)


class NetworkKind(models.TextChoices):
    MUNICIPAL_PLATFORM = "municipal_platform", _("Municipal platform")
    OTHER = "other", _("Other network")


class Network(models.Model):
    """A network of agencies, such as a municipal platform (市町村プラットフォーム)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"),
        max_length=30,
        choices=NetworkKind.choices,
        default=NetworkKind.MUNICIPAL_PLATFORM,
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="networks",
        verbose_name=_("municipality"),
    )
    coordinating_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinated_networks",
        verbose_name=_("coordinating agency"),
    )
    members = models.ManyToManyField(
        Agency, related_name="networks", blank=True, verbose_name=_("member agencies")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="network_name_per_municipality"
            ),
        ]

    def __str__(self) -> str:
        return self.name
