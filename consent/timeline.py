"""Consents on a client's timeline (registered with cases in ``ConsentConfig.ready``): the day
a consent was obtained, and the day it was withdrawn (the same row, fetched once). Also the
client page's flag for emergency disclosures running now."""

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from cases.extensions import Flag, TimelineSource

from .models import Consent, EmergencyDisclosure

CONSENT_OBTAINED = TimelineSource(
    "consent",
    "consent",
    _("Consents"),
    rows=lambda client, scope: (
        Consent.objects.filter(client=client, client__in=scope),
        F("obtained_on"),
        F("created_at"),
    ),
    fetch=lambda client, scope, pks: Consent.objects.filter(
        client=client, client__in=scope, pk__in=pks
    ).select_related("recipient", "obtained_by", "withdrawn_by"),
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
