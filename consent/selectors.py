"""Reads of consent records. Consents are part of the client's record at the holding agency:
they are reached only through ``cases.selectors.in_client_scope``, so another agency's consent,
or any consent for a supporter or administrative staff, is a 404."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from agencies.models import Agency
from agencies.permissions import Viewer, is_supervisor_of
from audit.access_log import log_refused_attempt
from cases.models import Client
from cases.permissions import can_work_with_clients
from cases.selectors import in_client_scope

from .models import Consent, EmergencyDisclosure, valid_on
from .permissions import can_review_emergency


class ConsentStatus:
    """Where a consent stands today (derived, never stored: an expiry needs no write)."""

    VALID = "valid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REPLACED = "replaced"

    # With a context: a referral is "withdrawn" too (取り下げ), a consent is 撤回.
    LABELS = {
        VALID: pgettext_lazy("consent status", "Valid"),
        EXPIRED: pgettext_lazy("consent status", "Expired"),
        WITHDRAWN: pgettext_lazy("consent status", "Withdrawn"),
        REPLACED: pgettext_lazy("consent status", "Replaced"),
    }


def _with_status(consents: QuerySet[Consent]) -> QuerySet[Consent]:
    """Annotate ``status`` (a ``ConsentStatus`` value) as of today, in the same query.

    The order of the conditions matters: a withdrawn consent that has also expired shows as
    withdrawn, because that is what the person did.
    """
    today = timezone.localdate()
    return consents.annotate(
        status=Case(
            # Valid by the one rule the gate reads (consent.models.valid_on), so the list can
            # never call valid what the gate refuses. A consent is never dated in the future
            # (consent_record refuses it), so what is not valid has ended or expired.
            When(valid_on(today), then=Value(ConsentStatus.VALID)),
            When(
                withdrawn_by__isnull=False, ended_on__lte=today, then=Value(ConsentStatus.WITHDRAWN)
            ),
            When(ended_on__lte=today, then=Value(ConsentStatus.REPLACED)),
            default=Value(ConsentStatus.EXPIRED),
        )
    )


def _consent_scope(*, viewer: Viewer) -> QuerySet[Consent]:
    return Consent.objects.filter(in_client_scope(viewer=viewer))


def client_consents(*, viewer: Viewer, client: Client) -> list[Consent]:
    """The client's consent history, newest first, ended, withdrawn and replaced ones
    included (the client page and the timeline show all of it); each with ``status``."""
    return list(
        _with_status(_consent_scope(viewer=viewer).filter(client=client))
        .select_related("recipient", "obtained_by", "withdrawn_by")
        .order_by("-obtained_on", "-id")
    )


def consent_get(*, viewer: Viewer, public_id: UUID) -> Consent:
    consent = (
        _with_status(_consent_scope(viewer=viewer))
        .select_related(
            "client",
            "client__agency",
            "recipient",
            "obtained_by",
            "withdrawn_by",
            "replaces",
            "replaced_by",
        )
        .filter(public_id=public_id)
        .first()
    )
    if consent is None:
        refused = Consent.objects.filter(public_id=public_id).select_related("client").first()
        if refused is not None:
            log_refused_attempt(viewer=viewer, client=refused.client)
        raise Http404
    return consent


def consent_recipients(*, viewer: Viewer) -> QuerySet[Agency]:
    """Agencies a consent may name: any agency active today other than the viewer's own
    (a consent may also serve a meeting with a partner that does not use Tsunagu)."""
    return (
        Agency.objects.active()
        .exclude(pk=viewer.membership.agency_id if viewer.membership else None)
        .order_by("name_kana", "name", "id")
    )


def consent_recipients_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The agency picker's "consent-recipient" purpose (the consent and emergency forms)."""
    if not can_work_with_clients(viewer):
        raise Http404
    return consent_recipients(viewer=viewer)


# --- Emergency disclosures -------------------------------------------------------------------


def client_emergency_disclosures(*, viewer: Viewer, client: Client) -> list[EmergencyDisclosure]:
    """The client's emergency disclosures for the holding agency's client page, newest first."""
    return list(
        EmergencyDisclosure.objects.filter(in_client_scope(viewer=viewer), client=client)
        .select_related("recipient", "disclosed_by", "reviewed_by")
        .order_by("-disclosed_at", "-id")
    )


def emergency_get(*, viewer: Viewer, public_id: UUID) -> EmergencyDisclosure:
    disclosure = (
        EmergencyDisclosure.objects.filter(in_client_scope(viewer=viewer))
        .select_related(
            "client", "client__agency", "recipient", "disclosed_by", "reviewed_by", "ended_by"
        )
        .filter(public_id=public_id)
        .first()
    )
    if disclosure is None:
        refused = EmergencyDisclosure.objects.filter(public_id=public_id).select_related("client")
        if (found := refused.first()) is not None:
            log_refused_attempt(viewer=viewer, client=found.client)
        raise Http404
    return disclosure


@dataclass(frozen=True)
class EmergencyOverview:
    # The agency's own not reviewed yet (supervisors only): those this supervisor may review,
    # and those they made themselves, which another supervisor must review.
    to_review: list[EmergencyDisclosure]
    awaiting_another: list[EmergencyDisclosure]
    made: list[EmergencyDisclosure]  # the agency's own, still shared
    received: list[EmergencyDisclosure]  # shared with this agency now: no names here


def emergency_overview(*, viewer: Viewer) -> EmergencyOverview:
    if not can_work_with_clients(viewer):
        raise Http404
    agency_id = viewer.membership.agency_id
    own = EmergencyDisclosure.objects.filter(client__agency_id=agency_id).select_related(
        "client", "recipient", "disclosed_by"
    )
    unreviewed: list[EmergencyDisclosure] = []
    if is_supervisor_of(viewer, agency_id):
        unreviewed = list(own.filter(reviewed_at__isnull=True).order_by("disclosed_at", "id"))
    return EmergencyOverview(
        to_review=[d for d in unreviewed if can_review_emergency(viewer, d)],
        awaiting_another=[d for d in unreviewed if not can_review_emergency(viewer, d)],
        # Running now, by the one rule the gate also reads (a list cannot disagree with it).
        made=list(own.active_at().order_by("-disclosed_at", "-id")[:100]),
        # The recipient's list names no one: the person's name is shown, and logged, only on
        # the live view the row links to.
        received=list(
            EmergencyDisclosure.objects.active_at()
            .filter(recipient_id=agency_id)
            .select_related("client__agency")
            .only(
                "public_id",
                "categories",
                "disclosed_at",
                "expires_at",
                "ended_at",
                "client__public_id",
                "client__agency__name",
            )
            .order_by("-disclosed_at", "-id")[:100]
        ),
    )
