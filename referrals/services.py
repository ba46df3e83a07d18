"""Writes to referrals (つなぎ). Consent is checked by the gate when sending and again when
accepting; what crosses is a snapshot of the consented categories only, and the provision and
confirmation records are written in the same transactions as the steps they record."""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer, can_review_queues
from audit.services import audit_record
from cases.models import Client
from cases.permissions import can_edit_client
from cases.record_data import record_data
from cases.services import case_open, client_create, client_record_first_contact
from consent.gate import consented_categories, may_share
from consent.models import DataCategory

from .models import (
    NEEDS_CONSENT,
    ConfirmationRecord,
    ProvisionRecord,
    Referral,
    ReferralMessage,
    ReferralType,
    Status,
    Urgency,
)
from .permissions import Side, can_answer, can_write_to_thread, side_of

REFERRAL_FIELDS = (
    "type",
    "to_agency",
    "reason",
    "client_wishes",
    "urgency",
    "categories",
    "message",
)


def _audit(viewer: Viewer, referral: Referral, action: str, changes: dict | None = None) -> None:
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action=action,
        target=referral,
        changes=changes or {},
    )


def _check_fields(referral: Referral) -> None:
    if referral.type not in ReferralType.values:
        raise ValidationError({"type": _("Choose the type of referral.")})
    if referral.urgency not in Urgency.values:
        raise ValidationError({"urgency": _("Choose the urgency.")})
    if not referral.client_wishes.strip():
        raise ValidationError({"client_wishes": _("Write the person's wishes in their own words.")})
    if referral.to_agency_id == referral.from_agency_id:
        raise ValidationError({"to_agency": _("Choose another agency.")})
    if referral.type == ReferralType.INTRODUCTION:
        referral.categories = []  # an introduction sends nothing
    else:
        referral.categories = list(dict.fromkeys(referral.categories))
        if any(c not in DataCategory.values for c in referral.categories):
            raise ValidationError({"categories": _("Unknown kind of information.")})
        if DataCategory.BASIC not in referral.categories:
            raise ValidationError(
                {
                    "categories": _(
                        "A referral with information needs at least the basic information."
                    )
                }
            )


@transaction.atomic
def referral_draft(
    *, viewer: Viewer, client: Client, fields: dict[str, Any], referral: Referral | None = None
) -> Referral:
    """Create or change a draft referral of the viewer's agency's client."""
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    if referral is None:
        referral = Referral(client=client, from_agency=client.agency, from_worker=viewer.user)
    elif referral.status != Status.DRAFT or referral.client_id != client.pk:
        raise ValidationError(_("Only a draft can be changed."))
    for field in REFERRAL_FIELDS:
        if field in fields:
            setattr(referral, field, fields[field])
    _check_fields(referral)
    referral.full_clean(exclude=["client", "from_agency", "from_worker", "snapshot"])
    referral.save()
    return referral


def _missing_consent(referral: Referral) -> list[str]:
    covered = consented_categories(client=referral.client, recipient=referral.to_agency)
    return [c for c in referral.categories if c not in covered]


@transaction.atomic
def referral_send(*, viewer: Viewer, referral: Referral) -> Referral:
    """Send a draft. For a referral with information, every category must be covered by a
    valid consent to the recipient now; the snapshot and the provision record are written
    in this same transaction."""
    if not can_edit_client(viewer, referral.client):
        raise PermissionDenied
    referral = (
        Referral.objects.select_for_update()
        .select_related("client", "to_agency")
        .get(pk=referral.pk)
    )
    if referral.status != Status.DRAFT:
        raise ValidationError(_("This referral has been sent already."))
    # Re-check consent at send time: it may have been withdrawn since the draft.
    covered = {}
    if referral.type in NEEDS_CONSENT:
        covered = consented_categories(client=referral.client, recipient=referral.to_agency)
        missing = [c for c in referral.categories if c not in covered]
        if missing:
            labels = dict(DataCategory.choices)
            raise ValidationError(
                _("No valid consent to %(agency)s for: %(categories)s.")
                % {
                    "agency": referral.to_agency.name,
                    "categories": "、".join(str(labels[c]) for c in missing),
                }
            )
    now = timezone.now()
    referral.status = Status.SENT
    referral.sent_at = now
    if referral.type in NEEDS_CONSENT:
        referral.snapshot = record_data(referral.client, referral.categories)
        ProvisionRecord.objects.create(
            referral=referral,
            provided_at=now,
            provider=referral.from_agency,
            recipient=referral.to_agency,
            client=referral.client,
            categories=referral.categories,
            consents=sorted({str(covered[c].public_id) for c in referral.categories}),
            provided_by=viewer.user,
        )
    referral.save()
    _audit(viewer, referral, "referral.sent", {"status": [Status.DRAFT, Status.SENT]})
    return referral


@transaction.atomic
def referral_withdraw(*, viewer: Viewer, referral: Referral) -> Referral:
    """The sender takes a referral back before it is answered."""
    if not can_edit_client(viewer, referral.client):
        raise PermissionDenied
    updated = Referral.objects.filter(
        pk=referral.pk, status__in=[Status.DRAFT, Status.SENT]
    ).update(status=Status.WITHDRAWN, updated_at=timezone.now())
    if not updated:
        raise ValidationError(_("It has been answered already and cannot be withdrawn."))
    referral.refresh_from_db()
    _audit(viewer, referral, "referral.withdrawn")
    return referral


def _receiving(viewer: Viewer, referral: Referral) -> None:
    if not can_answer(viewer, referral):
        raise PermissionDenied


def _claim(referral: Referral, *, to: str, viewer: Viewer, **fields) -> Referral:
    """Answer a sent referral exactly once: a conditional UPDATE claims it, so of two
    supervisors answering at the same moment only one succeeds."""
    claimed = Referral.objects.filter(pk=referral.pk, status=Status.SENT).update(
        status=to, answered_at=timezone.now(), answered_by=viewer.user, **fields
    )
    if not claimed:
        raise ValidationError(
            _("Someone has answered this referral already, or it was withdrawn. Reload the page.")
        )
    return Referral.objects.select_related("client", "from_agency", "to_agency").get(pk=referral.pk)


@transaction.atomic
def referral_accept(
    *, viewer: Viewer, referral: Referral, assignee: User | None = None
) -> Referral:
    """Accept a referral: the receiving agency gets its own client record and case, holding
    only what crossed, linked to the sender's; the confirmation record is written."""
    _receiving(viewer, referral)
    referral = _claim(referral, to=Status.ACCEPTED, viewer=viewer)
    # Consent is checked again at acceptance: withdrawn or expired since sending refuses it.
    if referral.type in NEEDS_CONSENT and _missing_consent(referral):
        raise ValidationError(
            _(
                "The person's consent has been withdrawn or has expired since it was sent; "
                "it cannot be accepted. Ask the sending agency."
            )
        )
    worker = assignee or referral.assignee or viewer.user
    receiving_client = None
    if referral.type in NEEDS_CONSENT:
        basic = referral.snapshot.get("basic", {})
        receiving_client = client_create(
            viewer=viewer,
            duplicate_confirmed=True,
            fields={
                "full_name": basic.get("full_name", ""),
                "full_name_kana": basic.get("full_name_kana", ""),
                "birth_date": date.fromisoformat(basic["birth_date"])
                if basic.get("birth_date")
                else None,
                "gender": basic.get("gender", ""),
                "postal_code": basic.get("postal_code", ""),
                "address": basic.get("address", ""),
                "phone": basic.get("phone", ""),
                "email": basic.get("email", ""),
                "contact_preferences": basic.get("contact_preferences", []),
                "contact_note": basic.get("contact_note", ""),
                "wishes": referral.client_wishes,
            },
        )
        case_open(
            viewer=viewer,
            client=receiving_client,
            fields={"origin": "referral"},
            topics=referral.snapshot.get("consultation", {}).get("topics") or ["other"],
            main_topic=(referral.snapshot.get("consultation", {}).get("topics") or ["other"])[0],
            primary_worker=worker,
        )
        consents = ", ".join(referral.provision.consents)
        ConfirmationRecord.objects.create(
            referral=referral,
            received_at=timezone.now(),
            recipient=referral.to_agency,
            provider=referral.from_agency,
            client=receiving_client,
            categories=referral.categories,
            how_obtained=_("Provided by %(agency)s with the person's consent (%(consents)s).")
            % {"agency": referral.from_agency.name, "consents": consents},
            confirmed_by=viewer.user,
        )
    Referral.objects.filter(pk=referral.pk).update(
        receiving_client=receiving_client, assignee=worker
    )
    referral.refresh_from_db()
    _audit(viewer, referral, "referral.accepted", {"status": [Status.SENT, Status.ACCEPTED]})
    return referral


@transaction.atomic
def referral_decline(*, viewer: Viewer, referral: Referral, reason: str) -> Referral:
    _receiving(viewer, referral)
    if not reason.strip():
        raise ValidationError({"reason": _("Write why the referral is declined.")})
    referral = _claim(referral, to=Status.DECLINED, viewer=viewer, decline_reason=reason.strip())
    _audit(viewer, referral, "referral.declined", {"status": [Status.SENT, Status.DECLINED]})
    return referral


@transaction.atomic
def referral_assign(*, viewer: Viewer, referrals: list[Referral], assignee: User) -> int:
    """Assign (or reassign) received referrals to a worker of the receiving agency."""
    if not can_review_queues(viewer.membership):
        raise PermissionDenied
    agency = viewer.membership.agency
    if not Membership.objects.filter(
        agency=agency, user=assignee, is_active=True, role__in=[Role.CASEWORKER, Role.SUPERVISOR]
    ).exists():
        raise ValidationError({"assignee": _("Choose a caseworker of this agency.")})
    ids = [r.pk for r in referrals if r.to_agency_id == agency.pk]
    if len(ids) != len(referrals):
        raise PermissionDenied
    count = Referral.objects.filter(pk__in=ids).update(assignee=assignee)
    for referral in referrals:
        _audit(viewer, referral, "referral.assigned", {"assignee": [None, str(assignee)]})
    return count


@transaction.atomic
def referral_confirm_first_contact(*, viewer: Viewer, referral: Referral, on: date) -> Referral:
    """The receiving agency met the person: only now is a つなぎ complete."""
    _receiving(viewer, referral)
    if on > timezone.localdate():
        raise ValidationError({"on": _("The date is in the future.")})
    updated = Referral.objects.filter(
        pk=referral.pk, status__in=[Status.ACCEPTED, Status.IN_SUPPORT]
    ).update(
        first_contact_on=on,
        status=Status.COMPLETED if referral.type == ReferralType.TSUNAGI else Status.IN_SUPPORT,
        completed_at=timezone.now() if referral.type == ReferralType.TSUNAGI else None,
    )
    if not updated:
        raise ValidationError(_("Only an accepted referral can be confirmed."))
    referral.refresh_from_db()
    if referral.receiving_client_id:
        # The first interview is the first direct contact with the person at this agency.
        client_record_first_contact(viewer=viewer, client=referral.receiving_client, on=on)
    _audit(viewer, referral, "referral.first_contact", {"first_contact_on": [None, on.isoformat()]})
    return referral


@transaction.atomic
def referral_message_post(*, viewer: Viewer, referral: Referral, body: str) -> ReferralMessage:
    if not can_write_to_thread(viewer, referral):
        raise PermissionDenied
    if not body.strip():
        raise ValidationError({"body": _("Write a message.")})
    # A message from the sending agency tells the other agency about the person (what was
    # heard, what happens next): passing it needs the person's consent to that agency
    # covering 相談内容・支援経過, at the moment it is written. After acceptance it is not part
    # of what crossed at sending, so the receiver reads it only while that consent lasts
    # (``selectors.referral_copy``); refusing it here keeps it from being written at all.
    # The receiving agency's messages are about its own record and are its own to write.
    if referral.needs_consent and side_of(viewer, referral) == Side.SENDER:
        covered = may_share(
            client=referral.client,
            recipient=referral.to_agency,
            category=DataCategory.CONSULTATION,
        )
        if not covered:
            raise ValidationError(
                {
                    "body": _(
                        "The person's consent to %(agency)s does not cover the consultations "
                        "and support record (it may have been withdrawn or have expired): a "
                        "message about the person cannot be sent to them. Record the "
                        "person's consent first."
                    )
                    % {"agency": referral.to_agency.name}
                }
            )
    return ReferralMessage.objects.create(
        referral=referral, author=viewer.user, agency=viewer.membership.agency, body=body.strip()
    )


def referral_recipients() -> list[Agency]:
    """Agencies that receive referrals through Tsunagu today."""
    return list(Agency.objects.active().filter(receives_referrals=True).order_by("name_kana"))
