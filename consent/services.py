"""Writes to consent records. A consent is never edited: a change is a new record that ends
the one it replaces; a withdrawal ends a record. Each write is audited in its transaction."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.permissions import Viewer
from audit.services import audit_record
from cases.models import Client
from cases.permissions import can_edit_client

from .models import Consent, ConsentMethod, DataCategory, GivenBy, Purpose

SCAN_TYPES = {"pdf", "jpg", "jpeg", "png", "tif", "tiff"}
SCAN_MAX_BYTES = 20 * 1024 * 1024


def _check_scan(scan: UploadedFile | None) -> None:
    if scan is None:
        return
    suffix = scan.name.rsplit(".", 1)[-1].lower() if "." in scan.name else ""
    if suffix not in SCAN_TYPES:
        raise ValidationError({"scan": _("Upload a PDF or an image (JPEG, PNG, TIFF).")})
    if scan.size > SCAN_MAX_BYTES:
        raise ValidationError({"scan": _("The file is larger than 20 MB.")})


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
