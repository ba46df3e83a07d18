"""The joint support page (共同支援): the shared policy and each agency's roles, as the consent
gate lets the viewer see them.
"""

from dataclasses import dataclass
from uuid import UUID

from django.http import Http404

from agencies.models import Agency, Membership
from agencies.permissions import Viewer
from audit.access_log import log_refused_attempt
from cases.permissions import can_work_with_clients
from consent import gate
from consent.gate import RecordAccess
from consent.models import DataCategory

from ..models import JointRole, Referral, ReferralType, SupportPolicy
from ..permissions import Side, can_change_joint_support, can_see_joint_support, side_of

# What the joint support page says about the person is their support plan: the shared policy
# (what both agencies aim for with the person, and how) and the roles the sending agency took
# on (what support it gives, by whom, until when) are part of the plan in the sender's record.
# So the receiving side sees them only while the gate allows 支援計画 (DataCategory.PLAN) of
# the sender's record, and joint support is changed only while the person's consent to the
# partner covers it. The receiver's own roles are its own record and always shown to it.
JOINT_CATEGORY = DataCategory.PLAN


@dataclass(frozen=True)
class JointRoles:
    agency: Agency
    roles: list[JointRole]
    # False: the other agency's roles, which the gate does not let this viewer see today
    # (shown as 同意なし; the roles are not even handed to the template).
    visible: bool = True


@dataclass
class JointSupport:
    referral: Referral
    side: str
    # The viewer's own record of the person: the sender's client, or the record the recipient
    # made on accepting. Never the other agency's.
    own_client: object
    roles_by_agency: list[JointRoles]
    policies: list[SupportPolicy]  # oldest first: the history; empty when not visible
    # What the gate lets the viewer see of the sender's record now (the sender: all of it).
    access: RecordAccess
    # The person's consent to the partner covers 支援計画: what changing joint support needs.
    consent_in_force: bool
    may_change: bool

    @property
    def policy_visible(self) -> bool:
        return self.access.allows(JOINT_CATEGORY)

    @property
    def current_policy(self) -> SupportPolicy | None:
        return self.policies[-1] if self.policies else None

    @property
    def agreed_policy(self) -> SupportPolicy | None:
        """The latest version both sides agreed to (a newer proposal may be pending)."""
        for policy in reversed(self.policies):
            if policy.agreed_by_both:
                return policy
        return None

    @property
    def waiting_for_us(self) -> bool:
        policy = self.current_policy
        if policy is None:
            return False
        mine = policy.agreed_by_sender if self.side == Side.SENDER else policy.agreed_by_recipient
        return not mine

    def roles_of(self, agency_id: int) -> list[JointRole]:
        """The roles of one agency as this viewer may see them (none when withheld)."""
        for group in self.roles_by_agency:
            if group.agency.pk == agency_id:
                return group.roles
        return []


def joint_support_get(*, viewer: Viewer, public_id: UUID) -> JointSupport:
    """The joint support page, as the consent gate lets this viewer see it now.

    The sending agency holds the record and sees everything. The receiving agency's look goes
    through the gate (``gate.open``, context ``JOINT_SUPPORT``, which also writes the access
    log): the policy and the sender's roles only while the gate allows 支援計画, else a 同意なし
    placeholder. Nothing is cached: a withdrawal takes effect on the next request."""
    referral = (
        Referral.objects.select_related("from_agency", "to_agency", "client", "receiving_client")
        .filter(public_id=public_id, type=ReferralType.JOINT_SUPPORT)
        .first()
    )
    if referral is None:
        raise Http404
    if not can_see_joint_support(viewer, referral):
        log_refused_attempt(viewer=viewer, client=referral.client)
        raise Http404
    side = side_of(viewer, referral)
    access = gate.open(viewer, referral.client, context=gate.Context.JOINT_SUPPORT)
    shown = access.allows(JOINT_CATEGORY)
    roles = list(
        JointRole.objects.filter(referral=referral)
        .select_related("contact_user")
        .order_by("period_from", "id")
    )
    own_agency_id = viewer.membership.agency_id
    roles_by_agency = []
    for agency in (referral.from_agency, referral.to_agency):
        visible = shown or agency.pk == own_agency_id
        mine = [role for role in roles if role.agency_id == agency.pk] if visible else []
        roles_by_agency.append(JointRoles(agency=agency, roles=mine, visible=visible))
    policies = []
    if shown:
        policies = list(
            SupportPolicy.objects.filter(referral=referral)
            .select_related("created_by", "agency")
            .order_by("created_at", "id")
        )
    consent_in_force = gate.may_pass(
        client=referral.client,
        recipient=referral.to_agency,
        purpose=referral.consent_purpose,
        category=JOINT_CATEGORY,
    ).allowed
    return JointSupport(
        referral=referral,
        side=side,
        own_client=referral.client if side == Side.SENDER else referral.receiving_client,
        roles_by_agency=roles_by_agency,
        policies=policies,
        access=access,
        consent_in_force=consent_in_force,
        # Changing the policy or the roles passes them to the other agency: it needs both the
        # consent and (for the receiver) that the gate shows what is being changed.
        may_change=consent_in_force and shown and can_change_joint_support(viewer, referral),
    )


def joint_contact_choices(*, viewer: Viewer) -> list[Membership]:
    """Everyone on the viewer's agency roster today, whatever the role: a supporter may well be
    the contact for home visits."""
    if not can_work_with_clients(viewer):
        raise Http404
    return list(
        Membership.objects.filter(agency_id=viewer.membership.agency_id, is_active=True)
        .select_related("user")
        .only("id", "agency_id", "user__id", "user__full_name", "user__full_name_kana")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )
