"""Writes to joint support (共同支援): the roles each agency takes on (役割分担) and the support
policy both align on (支援方針の摺り合わせ).

Joint support rests on the person's consent to the partner agency: the policy and the roles
speak of the person's support plan, so while no valid consent to the partner covers 支援計画
(withdrawn, expired, or never covering it) neither side can change roles or policy. Every write
names its acting viewer and writes its audit entry in the same transaction.

The two permission predicates live here for now, beside their only users; the lead may move
them into ``referrals/permissions.py``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Membership
from agencies.permissions import Viewer
from audit.services import MASK, audit_record, diff
from consent.gate import may_share

from .models import JointRole, JointRoleKind, Referral, SupportPolicy
from .permissions import Side, can_change_joint_support, can_see_joint_support, side_of
from .queue_selectors import JOINT_CATEGORY

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
    if not may_share(client=referral.client, recipient=referral.to_agency, category=JOINT_CATEGORY):
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
