"""Consents on a client's timeline (registered with cases in ``ConsentConfig.ready``): the day
a consent was obtained, and the day it was withdrawn (the same row, fetched once). Also the
client page's flag for emergency disclosures running now."""

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.extensions import Flag, TimelineSource

from .models import Consent, EmergencyDisclosure

CONSENT_OBTAINED = TimelineSource.of_model(
    "consent",
    "consent",
    _("Consents"),
    Consent,
    where=lambda client, scope: Q(client=client, client__in=scope),
    day=F("obtained_on"),
    at=F("created_at"),
    related=("recipient", "obtained_by", "withdrawn_by"),
)
CONSENT_WITHDRAWN = TimelineSource(
    "consent_withdrawn",
    "consent",
    _("Consents"),
    rows=lambda client, scope: (
        Consent.objects.filter(client=client, client__in=scope, withdrawn_by__isnull=False),
        F("ended_on"),
        F("created_at"),
    ),
    fetched_with="consent",
)
# Emergency disclosures sharing the record right now, by the gate's own rule.
ACTIVE_EMERGENCIES = Flag(
    "active_emergencies", rows=lambda: EmergencyDisclosure.objects.active_at()
)
