"""The consent gate: the one place that decides what of a client's record may reach another
agency, and on what basis.

Every path that shows client data to anyone outside the holding agency asks ``may_share``;
nothing is cached, so a withdrawal or an expiry takes effect on the very next call.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Consent, DataCategory


class Basis:
    HOLDER = "holder"  # the agency's own record
    CONSENT = "consent"  # 本人同意


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str | None
    consent: Consent | None = None

    def __bool__(self) -> bool:
        return self.allowed


DENIED = Decision(allowed=False, basis=None)


def valid_consents(*, client, recipient, on: date | None = None):
    """Consents of ``client`` to ``recipient`` valid on the day (today by default)."""
    day = on or timezone.localdate()
    return Consent.objects.filter(
        client=client,
        recipient=recipient,
        obtained_on__lte=day,
        valid_until__gte=day,
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def consented_categories(*, client, recipient, on: date | None = None) -> dict[str, Consent]:
    """{category: the consent that covers it} for what may pass to ``recipient`` today."""
    covered: dict[str, Consent] = {}
    for consent in valid_consents(client=client, recipient=recipient, on=on).order_by(
        "-obtained_on", "-id"
    ):
        for category in consent.categories:
            covered.setdefault(category, consent)
    return covered


def may_share(*, client, recipient, category: str, on: date | None = None) -> Decision:
    """May ``category`` of ``client``'s record (held by its agency) reach ``recipient``?"""
    if category not in DataCategory.values:
        raise ValueError(f"unknown data category {category!r}")
    if recipient.pk == client.agency_id:
        return Decision(allowed=True, basis=Basis.HOLDER)
    consent = consented_categories(client=client, recipient=recipient, on=on).get(category)
    if consent is None:
        return DENIED
    return Decision(allowed=True, basis=Basis.CONSENT, consent=consent)


NOT_CONSENTED = _("No consent")
