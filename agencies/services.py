"""Writes to the agency roster.

Each takes the acting viewer (or user) first, checks permission with the predicates in
``permissions``, writes its audit entry, and runs in one transaction.
"""

from datetime import date
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_record, diff
from core.japanese import search_key, to_katakana

from .models import (
    Agency,
    AgencyFunctionEntry,
    Membership,
    Municipality,
    Network,
    Role,
    SupporterProfile,
)
from .permissions import Viewer, can_administer_installation, can_manage_agency

AGENCY_FIELDS = (
    "name",
    "name_kana",
    "kind",
    "municipality",
    "operation",
    "contractor_name",
    "postal_code",
    "address",
    "phone",
    "email",
    "opening_hours",
    "public_note",
    "receives_referrals",
    "consent_validity_days",
    "referral_alert_business_days",
    "require_two_factor",
    "active_from",
    "active_until",
)


def _agency_snapshot(agency: Agency) -> dict[str, Any]:
    snapshot = {field: getattr(agency, field) for field in AGENCY_FIELDS}
    if agency.pk:
        snapshot["service_area"] = [m.code for m in agency.service_area.all()]
        snapshot["functions"] = [entry.function for entry in agency.function_entries.all()]
    return snapshot


def _agency_apply(
    agency: Agency, fields: dict[str, Any], service_area: list[Municipality], functions: list[str]
) -> None:
    for field in AGENCY_FIELDS:
        if field in fields:
            setattr(agency, field, fields[field])
    agency.name_kana = to_katakana(agency.name_kana)
    agency.search_key = search_key(agency.name, agency.name_kana)
    agency.full_clean(exclude=["search_key"])
    agency.save()
    agency.service_area.set(service_area)
    AgencyFunctionEntry.objects.filter(agency=agency).exclude(function__in=functions).delete()
    existing = set(agency.function_entries.values_list("function", flat=True))
    AgencyFunctionEntry.objects.bulk_create(
        AgencyFunctionEntry(agency=agency, function=function)
        for function in functions
        if function not in existing
    )
    # Drop prefetched relations so the snapshot after the change reads the new rows.
    getattr(agency, "_prefetched_objects_cache", {}).clear()


@transaction.atomic
def agency_create(
    *,
    viewer: Viewer,
    fields: dict[str, Any],
    service_area: list[Municipality],
    functions: list[str],
) -> Agency:
    if not can_administer_installation(viewer):
        raise PermissionDenied
    agency = Agency()
    _agency_apply(agency, fields, service_area, functions)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="agency.created",
        target=agency,
        changes=diff({}, _agency_snapshot(agency), masked=frozenset()),
    )
    return agency


@transaction.atomic
def agency_update(
    *,
    viewer: Viewer,
    agency: Agency,
    fields: dict[str, Any],
    service_area: list[Municipality],
    functions: list[str],
) -> Agency:
    if not can_manage_agency(viewer, agency):
        raise PermissionDenied
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = _agency_snapshot(agency)
    _agency_apply(agency, fields, service_area, functions)
    changes = diff(before, _agency_snapshot(agency), masked=frozenset())
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="agency.updated",
            target=agency,
            changes=changes,
        )
    return agency


@transaction.atomic
def membership_ensure(
    *,
    actor: User | None,
    user: User,
    agency: Agency,
    role: Role,
    is_roster_admin: bool = False,
    is_peer_supporter: bool = False,
) -> Membership:
    """Give ``user`` the role at ``agency``, idempotently: for seeding and roster set-up.

    ``actor`` is None when the system itself sets the roster up (demo.seed_demo); it is audited so.
    """
    membership, created = Membership.objects.update_or_create(
        user=user,
        agency=agency,
        defaults={"role": role, "is_roster_admin": is_roster_admin, "is_active": True},
    )
    if role == Role.SUPPORTER:
        SupporterProfile.objects.update_or_create(
            membership=membership, defaults={"is_peer_supporter": is_peer_supporter}
        )
    if created:
        audit_record(
            actor=actor,
            action="membership.created",
            target=membership,
            changes=diff(
                {}, {"user": user.username, "role": role, "is_roster_admin": is_roster_admin}
            ),
        )
    return membership


def _send_invitation(user: User, agency: Agency, base_url: str) -> None:
    """Email the set-your-password link. It carries no client data; only the agency's name."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = base_url.rstrip("/") + reverse("password_reset_confirm", args=[uid, token])
    send_mail(
        subject=_("Your Tsunagu account"),
        message=_(
            "You have been added to %(agency)s in Tsunagu.\n\n"
            "Your user name: %(username)s\n"
            "Set your password here (the link works once and expires in 3 days):\n%(link)s\n"
        )
        % {"agency": agency.name, "username": user.username, "link": link},
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def staff_invite(
    *,
    viewer: Viewer,
    agency: Agency,
    username: str,
    full_name: str,
    full_name_kana: str,
    email: str,
    role: Role,
    is_roster_admin: bool,
    base_url: str,
) -> Membership:
    """Add a person to the agency's staff, creating their account if it is new.

    One person may work for several agencies: an existing user name gets a new membership.
    """
    if not can_manage_agency(viewer, agency):
        raise PermissionDenied
    user = User.objects.select_for_update().filter(username=username).first()
    created_user = user is None
    if created_user:
        user = User(
            username=username,
            full_name=full_name,
            full_name_kana=to_katakana(full_name_kana),
            email=email,
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    elif Membership.objects.filter(user=user, agency=agency).exists():
        raise ValidationError(
            {"username": _("This person is already on the staff of this agency.")}
        )
    membership = Membership.objects.create(
        user=user, agency=agency, role=role, is_roster_admin=is_roster_admin
    )
    if role == Role.SUPPORTER:
        SupporterProfile.objects.create(membership=membership)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="membership.created",
        target=membership,
        changes=diff(
            {},
            {
                "user": user.username,
                "role": role,
                "is_roster_admin": is_roster_admin,
                "new_account": created_user,
            },
        ),
    )
    if created_user and user.email:
        transaction.on_commit(lambda: _send_invitation(user, agency, base_url))
    return membership


@transaction.atomic
def staff_update(
    *, viewer: Viewer, membership: Membership, role: Role, is_roster_admin: bool
) -> Membership:
    if not can_manage_agency(viewer, membership.agency):
        raise PermissionDenied
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.user_id == viewer.user.pk and not is_roster_admin:
        # Removing one's own admin rights could lock the agency out of its roster.
        raise ValidationError(
            {"is_roster_admin": _("You cannot remove your own roster administrator rights.")}
        )
    before = {"role": membership.role, "is_roster_admin": membership.is_roster_admin}
    membership.role = role
    membership.is_roster_admin = is_roster_admin
    membership.save(update_fields=["role", "is_roster_admin"])
    if role == Role.SUPPORTER:
        SupporterProfile.objects.get_or_create(membership=membership)
    changes = diff(before, {"role": role, "is_roster_admin": is_roster_admin})
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="membership.updated",
            target=membership,
            changes=changes,
        )
    return membership


@transaction.atomic
def staff_deactivate(*, viewer: Viewer, membership: Membership) -> Membership:
    """Take a person off the agency's staff and end every session they have, at once."""
    if not can_manage_agency(viewer, membership.agency):
        raise PermissionDenied
    if membership.user_id == viewer.user.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return membership
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    # Every session of the user fails its auth-hash check on the next request.
    User.objects.filter(pk=membership.user_id).update(session_epoch=F("session_epoch") + 1)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="membership.deactivated",
        target=membership,
        changes={"is_active": [True, False]},
    )
    return membership


@transaction.atomic
def staff_reactivate(*, viewer: Viewer, membership: Membership) -> Membership:
    if not can_manage_agency(viewer, membership.agency):
        raise PermissionDenied
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="membership.reactivated",
        target=membership,
        changes={"is_active": [False, True]},
    )
    return membership


@transaction.atomic
def supporter_profile_update(
    *,
    viewer: Viewer,
    membership: Membership,
    is_peer_supporter: bool,
    dispatching_municipality: Municipality | None,
    training_completed_on: date | None,
) -> SupporterProfile:
    if not can_manage_agency(viewer, membership.agency):
        raise PermissionDenied
    if membership.role != Role.SUPPORTER:
        raise ValidationError(_("Only supporters have a supporter profile."))
    profile, _created = SupporterProfile.objects.select_for_update().get_or_create(
        membership=membership
    )
    fields = ("is_peer_supporter", "dispatching_municipality", "training_completed_on")
    before = {field: getattr(profile, field) for field in fields}
    profile.is_peer_supporter = is_peer_supporter
    profile.dispatching_municipality = dispatching_municipality
    profile.training_completed_on = training_completed_on
    profile.save()
    changes = diff(before, {field: getattr(profile, field) for field in fields})
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="supporter.updated",
            target=membership,
            changes=changes,
        )
    return profile


@transaction.atomic
def municipality_correct(
    *, viewer: Viewer, municipality: Municipality, kind: str, has_welfare_office: bool
) -> Municipality:
    """A system admin's correction of what the import derived; re-imports keep it."""
    if not can_administer_installation(viewer):
        raise PermissionDenied
    municipality = Municipality.objects.select_for_update().get(pk=municipality.pk)
    before = {"kind": municipality.kind, "has_welfare_office": municipality.has_welfare_office}
    if kind != municipality.kind:
        municipality.kind = kind
        municipality.kind_is_manual = True
    if has_welfare_office != municipality.has_welfare_office:
        municipality.has_welfare_office = has_welfare_office
        municipality.welfare_office_is_manual = True
    municipality.full_clean()
    municipality.save()
    changes = diff(
        before, {"kind": municipality.kind, "has_welfare_office": municipality.has_welfare_office}
    )
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="municipality.corrected",
            target=municipality,
            changes=changes,
        )
    return municipality


NETWORK_FIELDS = ("name", "kind", "municipality", "coordinating_agency")


@transaction.atomic
def network_save(
    *,
    viewer: Viewer,
    network: Network | None,
    fields: dict[str, Any],
    members: list[Agency],
) -> Network:
    """Create (network=None) or change a network of agencies."""
    if not can_administer_installation(viewer):
        raise PermissionDenied
    created = network is None
    network = Network() if created else Network.objects.select_for_update().get(pk=network.pk)
    before = {} if created else {field: getattr(network, field) for field in NETWORK_FIELDS}
    if not created:
        before["members"] = [a.name for a in network.members.all()]
    for field in NETWORK_FIELDS:
        setattr(network, field, fields[field])
    coordinating = fields.get("coordinating_agency")
    if coordinating is not None and coordinating not in members:
        members = [*members, coordinating]
    network.full_clean()
    network.save()
    network.members.set(members)
    after = {field: getattr(network, field) for field in NETWORK_FIELDS}
    after["members"] = [a.name for a in members]
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="network.created" if created else "network.updated",
        target=network,
        changes=diff(before, after),
    )
    return network
