"""The parts a client's record is divided into when anything of it may cross to another agency.

Consents, emergency disclosures, 支援会議 agenda items, referrals and the access log all speak in
these categories; they sit here, below every app, so that each can name them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataCategory(models.TextChoices):
    """What a consent may cover; the gate decides per category."""

    BASIC = "basic", _("Basic information (name, contact, address)")
    HOUSEHOLD = "household", _("Household situation")
    CONSULTATION = "consultation", _("Consultations and support record")
    HEALTH = "health", _("Physical and mental health (special-care data)")
    FINANCE = "finance", _("Economic and household finances")
    PLAN = "plan", _("Support plan")


def category_labels(categories: list[str]) -> list[str]:
    """The categories' names as people read them, in the order given."""
    labels = dict(DataCategory.choices)
    return [str(labels.get(c, c)) for c in categories]
