"""Writes to referrals (つなぎ). Consent is checked by the gate when sending and again when
accepting; what crosses is a snapshot of the consented categories only, and the provision and
confirmation records are written in the same transactions as the steps they record.

Joint support (共同支援) — the roles each agency takes on (役割分担) and the support policy both
align on (支援方針の摺り合わせ) — rests on the person's consent to the partner agency: the policy
and the roles speak of the person's support plan, so while no valid consent to the partner
covers 支援計画 (withdrawn, expired, or never covering it) neither side can change roles or
policy. Every write names its acting viewer and writes its audit entry in the same transaction.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from agencies.models import Membership, Role
from agencies.permissions import Viewer, can_review_queues
from audit.services import MASK, audit_record, diff
from cases.models import Client
from cases.permissions import can_edit_client
from cases.services import case_open, client_create, client_record_first_contact
from consent import gate
from consent.models import DataCategory
from consent.record_data import record_data

from .models import (
    NEEDS_CONSENT,
    ConfirmationRecord,
    JointRole,
    JointRoleKind,
    ProvisionRecord,
    Referral,
    ReferralMessage,
    ReferralType,
    Status,
    SupportPolicy,
    Urgency,
)
from .permissions import (
    Side,
    can_answer,
    can_change_joint_support,
    can_see_joint_support,
    can_write_to_thread,
    side_of,
)
from .selectors import JOINT_CATEGORY

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


def _consented(referral: Referral) -> dict:
    """What a valid consent for the referral's own purpose lets pass to its recipient today."""
    return gate.consented(
        client=referral.client, recipient=referral.to_agency, purpose=referral.consent_purpose
    )


def _missing_consent(referral: Referral) -> list[str]:
    covered = _consented(referral)
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
        covered = _consented(referral)
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
    if not can_review_queues(viewer):
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
        covered = gate.may_pass(
            client=referral.client,
            recipient=referral.to_agency,
            purpose=referral.consent_purpose,
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


# --- Joint support (共同支援) ------------------------------------------------------------------

# Also the banner of the joint support page (the view hands it to the template).
CONSENT_NOT_COVERING = gettext_lazy(
    "The person's consent to the partner agency does not cover the support plan, or it has "
    "been withdrawn or has expired: joint support cannot be changed until a consent covering "
    "it is recorded."
)

# Joint support is worked on once the partner accepted, and read afterwards too.
# What a caller may set (the contact by user id), and what the audit entry shows (by name).
ROLE_FIELDS = ("role", "note", "contact_user_id", "contact_name", "period_from", "period_until")
ROLE_AUDITED = ("role", "note", "contact_user", "contact_name", "period_from", "period_until")


def _check(viewer: Viewer, referral: Referral) -> Referral:
    """Permission, then the consent, on a fresh row locked for the rest of the transaction, so
    two agreements (or an agreement and a new proposal) are taken one after the other."""
    if not can_see_joint_support(viewer, referral):
        raise PermissionDenied
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("client", "to_agency", "from_agency")
        .get(pk=referral.pk)
    )
    if not can_change_joint_support(viewer, referral):
        raise ValidationError(_("This joint support has ended and can no longer be changed."))
    # Re-check consent on every change: it may have been withdrawn since the page was opened.
    # Whichever side writes, the text reaches the other agency (and the sender's roles and
    # policy are its record's support plan): the consent to the partner must cover it.
    if not gate.may_pass(
        client=referral.client,
        recipient=referral.to_agency,
        purpose=referral.consent_purpose,
        category=JOINT_CATEGORY,
    ):
        raise ValidationError(CONSENT_NOT_COVERING)
    return referral


def _role_snapshot(role: JointRole) -> dict[str, Any]:
    return {f: getattr(role, f) for f in ROLE_AUDITED}


@transaction.atomic
def joint_role_save(
    *,
    viewer: Viewer,
    referral: Referral,
    fields: dict[str, Any],
    role: JointRole | None = None,
) -> JointRole:
    """Record (or change) a role the viewer's own agency takes on in this joint support.

    Each agency states its own roles; the other agency's rows are read-only to it.
    """
    referral = _check(viewer, referral)
    agency = viewer.membership.agency
    if role is None:
        role = JointRole(referral=referral, agency=agency)
        before: dict[str, Any] = {}
    elif role.referral_id != referral.pk or role.agency_id != agency.pk:
        raise PermissionDenied
    else:
        before = _role_snapshot(role)
    for name in ROLE_FIELDS:
        if name in fields:
            setattr(role, name, fields[name])
    role.contact_name = (role.contact_name or "").strip()
    if role.role not in JointRoleKind.values:
        raise ValidationError({"role": _("Choose the role.")})
    if role.contact_user_id is not None:
        is_staff = Membership.objects.filter(
            agency=agency, user_id=role.contact_user_id, is_active=True
        ).exists()
        if not is_staff:
            raise ValidationError({"contact_user": _("Choose a member of this agency.")})
    if role.contact_user_id is None and not role.contact_name:
        raise ValidationError({"contact_name": _("Name a contact person.")})
    if role.period_until and role.period_from and role.period_until < role.period_from:
        raise ValidationError({"period_until": _("The end date is before the start date.")})
    role.full_clean(exclude=["referral", "agency"])
    role.save()
    audit_record(
        actor=viewer.user,
        acting_agency=agency,
        action="referral.joint_role_saved" if before else "referral.joint_role_created",
        target=role,
        changes=diff(before, _role_snapshot(role)),
    )
    return role


def _latest_policy(referral: Referral) -> SupportPolicy | None:
    return SupportPolicy.objects.filter(referral=referral).order_by("-created_at", "-id").first()


@transaction.atomic
def support_policy_propose(*, viewer: Viewer, referral: Referral, text: str) -> SupportPolicy:
    """A new version of the support policy, agreed by the side that writes it; the other side
    has yet to agree. Earlier versions stay as they were: they are the history."""
    referral = _check(viewer, referral)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the support policy.")})
    side = side_of(viewer, referral)
    latest = _latest_policy(referral)
    if latest is not None and latest.text == text:
        raise ValidationError({"text": _("The text is the same as the current version.")})
    policy = SupportPolicy.objects.create(
        referral=referral,
        text=text,
        agreed_by_sender=side == Side.SENDER,
        agreed_by_recipient=side == Side.RECEIVER,
        agency=viewer.membership.agency,
        created_by=viewer.user,
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.membership.agency,
        action="referral.policy_proposed",
        target=policy,
        # The text speaks about the person: the audit trail keeps only that it changed.
        changes={"text": [MASK, MASK], "version": [latest.pk if latest else None, policy.pk]},
    )
    return policy


@transaction.atomic
def support_policy_agree(
    *, viewer: Viewer, referral: Referral, policy: SupportPolicy
) -> SupportPolicy:
    """The viewer's side agrees to ``policy``, which must still be the latest version.

    The agreement is a new row carrying the same text, so the history shows who agreed when.
    """
    referral = _check(viewer, referral)
    if policy.referral_id != referral.pk:
        raise PermissionDenied
    latest = _latest_policy(referral)
    if latest is None or latest.pk != policy.pk:
        raise ValidationError(
            _("A newer version has been proposed since. Read it, then agree to that one.")
        )
    side = side_of(viewer, referral)
    already = latest.agreed_by_sender if side == Side.SENDER else latest.agreed_by_recipient
    if already:
        raise ValidationError(_("Your agency has agreed to this version already."))
    agreed = SupportPolicy.objects.create(
        referral=referral,
        text=latest.text,
        agreed_by_sender=latest.agreed_by_sender or side == Side.SENDER,
        agreed_by_recipient=latest.agreed_by_recipient or side == Side.RECEIVER,
        agency=viewer.membership.agency,
        created_by=viewer.user,
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.membership.agency,
        action="referral.policy_agreed",
        target=agreed,
        changes={"agreed_by": [None, side], "version": [latest.pk, agreed.pk]},
    )
    return agreed
