"""Clients (本人), their households and the household's members (続柄)."""

import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
