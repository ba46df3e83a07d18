"""Writes to consent records. A consent is never edited: a change is a new record that ends
the one it replaces; a withdrawal ends a record. Each write is audited in its transaction."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.permissions import Viewer, is_supervisor_of
from audit.services import audit_record
from cases.models import Client
from cases.permissions import can_edit_client

from . import scans
from .models import (
    Consent,
    ConsentMethod,
    DataCategory,
    EmergencyDisclosure,
    GivenBy,
    Purpose,
)
from .permissions import can_review_emergency


def _check_scan(scan: UploadedFile | None) -> None:
    # What a scan may be is consent.scans' rule, for every caller of the service.
    if scan is None:
        return
    try:
        scans.check_scan(scan)
    except ValidationError as error:
        raise ValidationError({"scan": error}) from None


@transaction.atomic
def consent_record(
    *,
    viewer: Viewer,
    client: Client,
    recipient: Agency,
    purpose: str,
    categories: list[str],
    method: str,
    given_by: str = GivenBy.CLIENT,
    representative_name: str = "",
    obtained_on: date | None = None,
    valid_until: date | None = None,
    scan: UploadedFile | None = None,
    replaces: Consent | None = None,
) -> Consent:
    """Record the client's consent to pass the given categories to ``recipient``."""
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    if recipient.pk == client.agency_id:
        raise ValidationError({"recipient": _("Choose another agency: this one holds the record.")})
    categories = list(dict.fromkeys(categories))
    if not categories:
        raise ValidationError({"categories": _("Choose at least one kind of information.")})
    if any(c not in DataCategory.values for c in categories):
        raise ValidationError({"categories": _("Unknown kind of information.")})
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose the purpose.")})
    if method not in ConsentMethod.values:
        raise ValidationError({"method": _("Choose how the consent was given.")})
    if given_by != GivenBy.CLIENT and not representative_name.strip():
        raise ValidationError(
            {"representative_name": _("Write the name of the legal representative.")}
        )
    obtained_on = obtained_on or timezone.localdate()
    if obtained_on > timezone.localdate():
        raise ValidationError({"obtained_on": _("The date is in the future.")})
    if valid_until is None:
        valid_until = obtained_on + timedelta(days=client.agency.consent_validity_days)
    if valid_until < obtained_on:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    _check_scan(scan)
    if replaces is not None:
        replaces = Consent.objects.select_for_update().get(pk=replaces.pk)
        if replaces.client_id != client.pk or replaces.recipient_id != recipient.pk:
            raise ValidationError(
                _("A consent can only replace one for the same client and agency.")
            )
        if replaces.ended_on is None or replaces.ended_on > obtained_on:
            Consent.objects.filter(pk=replaces.pk).update(ended_on=obtained_on)
    consent = Consent(
        client=client,
        recipient=recipient,
        purpose=purpose,
        categories=categories,
        method=method,
        given_by=given_by,
        representative_name=representative_name.strip(),
        obtained_by=viewer.user,
        obtained_on=obtained_on,
        valid_until=valid_until,
        replaces=replaces,
    )
    if scan is not None:
        consent.scan.save(scan.name, scan, save=False)
    consent.save()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consent.recorded",
        target=consent,
        changes={
            "recipient": [None, recipient.name],
            "categories": [None, categories],
            "valid_until": [None, valid_until.isoformat()],
        },
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, viewer: Viewer, consent: Consent, how: str, on: date | None = None
) -> Consent:
    """The person withdrew their consent: it ends today, and the gate stops at once."""
    if not can_edit_client(viewer, consent.client):
        raise PermissionDenied
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    on = on or timezone.localdate()
    if consent.ended_on is not None and consent.ended_on <= on:
        raise ValidationError(_("This consent has already ended."))
    if not how.strip():
        raise ValidationError({"how": _("Write how the withdrawal was made.")})
    consent.ended_on = on
    consent.withdrawn_how = how.strip()
    consent.withdrawn_by = viewer.user
    consent.save(update_fields=["ended_on", "withdrawn_how", "withdrawn_by"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consent.withdrawn",
        target=consent,
        changes={"ended_on": [None, on.isoformat()]},
    )
    return consent


# --- Emergency disclosures (個人情報保護法 27条1項2号) ------------------------------------------


@transaction.atomic
def emergency_disclose(
    *, viewer: Viewer, client: Client, recipient: Agency, categories: list[str], reason: str
) -> EmergencyDisclosure:
    """Let ``recipient`` see the chosen categories without consent, to protect someone's life or
    body when consent cannot be obtained. Time-limited; the agency's supervisors are told at
    once and one of them must review it."""
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if recipient.pk == client.agency_id:
        errors["recipient"] = _("Choose another agency: this one holds the record.")
    categories = list(dict.fromkeys(categories))
    if not categories:
        errors["categories"] = _("Choose at least one kind of information.")
    elif any(c not in DataCategory.values for c in categories):
        errors["categories"] = _("Unknown kind of information.")
    if not reason.strip():
        errors["reason"] = _(
            "Write whose life or body is at risk and why consent cannot be obtained now."
        )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    disclosure = EmergencyDisclosure.objects.create(
        client=client,
        recipient=recipient,
        categories=categories,
        reason=reason.strip(),
        disclosed_by=viewer.user,
        disclosed_at=now,
        expires_at=now + timedelta(hours=settings.EMERGENCY_DISCLOSURE_HOURS),
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consent.emergency_disclosed",
        target=disclosure,
        changes={
            "recipient": [None, recipient.name],
            "categories": [None, categories],
            "expires_at": [None, disclosure.expires_at.isoformat()],
        },
    )
    # The supervisors' "to review" reminder is the reminders app's (reminders.receivers).
    return disclosure


@transaction.atomic
def emergency_end(*, viewer: Viewer, disclosure: EmergencyDisclosure) -> EmergencyDisclosure:
    """Stop sharing before the time runs out (the danger has passed)."""
    if not can_edit_client(viewer, disclosure.client):
        raise PermissionDenied
    now = timezone.now()
    ended = (
        # Only one in force can be ended (the rule the gate reads, consent.models.active_at).
        EmergencyDisclosure.objects.active_at(now)
        .filter(pk=disclosure.pk)
        .update(ended_at=now, ended_by=viewer.user)
    )
    if not ended:
        raise ValidationError(_("This disclosure has already ended."))
    disclosure.refresh_from_db()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consent.emergency_ended",
        target=disclosure,
        changes={"ended_at": [None, now.isoformat()]},
    )
    return disclosure


@transaction.atomic
def emergency_review(
    *, viewer: Viewer, disclosure: EmergencyDisclosure, note: str
) -> EmergencyDisclosure:
    """A supervisor of the holding agency other than the one who made the disclosure reviews
    it afterwards (once)."""
    if not is_supervisor_of(viewer, disclosure.client.agency_id):
        raise PermissionDenied
    if not can_review_emergency(viewer, disclosure):
        # The one supervisor the rule leaves out is told why, not just refused.
        raise ValidationError(
            _("You made this disclosure: another supervisor of your agency must review it.")
        )
    if not note.strip():
        raise ValidationError({"note": _("Write what you found in the review.")})
    now = timezone.now()
    reviewed = EmergencyDisclosure.objects.filter(
        pk=disclosure.pk, reviewed_at__isnull=True
    ).update(reviewed_at=now, reviewed_by=viewer.user, review_note=note.strip())
    if not reviewed:
        raise ValidationError(_("Someone has reviewed this disclosure already. Reload the page."))
    disclosure.refresh_from_db()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consent.emergency_reviewed",
        target=disclosure,
        changes={"reviewed_at": [None, now.isoformat()]},
    )
    return disclosure
