"""Writes to a client's household and its members."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.permissions import Viewer
from audit.services import audit_record, diff

from ..models import Client, Household, HouseholdMember, Relationship
from ..permissions import can_edit_client

MEMBER_FIELDS = ("name", "relationship", "birth_year", "lives_together", "in_withdrawal", "note")


@transaction.atomic
def household_save(
    *, viewer: Viewer, client: Client, postal_code: str, address: str, note: str
) -> Household:
    """Create the client's household (with the client as its first member) or change it."""
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    client = Client.objects.select_for_update().get(pk=client.pk)
    household = client.household
    created = household is None
    if created:
        household = Household(agency=client.agency)
    before = {} if created else {"postal_code": household.postal_code, "address": household.address}
    household.postal_code, household.address, household.note = postal_code, address, note
    household.full_clean()
    household.save()
    if created:
        client.household = household
        client.save(update_fields=["household", "updated_at"])
        HouseholdMember.objects.create(
            household=household,
            client=client,
            name=client.full_name,
            relationship=Relationship.SELF,
            birth_year=client.birth_date.year if client.birth_date else None,
        )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="household.created" if created else "household.updated",
        target=household,
        changes=diff(before, {"postal_code": postal_code, "address": address}),
    )
    return household


def _birth_year(fields: dict[str, Any]) -> int | None:
    """A birth year, or one derived from an age when that is all the family told us."""
    if fields.get("birth_year"):
        return fields["birth_year"]
    if fields.get("age") is not None:
        return timezone.localdate().year - fields["age"]
    return None


@transaction.atomic
def household_member_save(
    *,
    viewer: Viewer,
    client: Client,
    member: HouseholdMember | None,
    fields: dict[str, Any],
    member_client: Client | None = None,
) -> HouseholdMember:
    """Add (member=None) or change a member of the client's household."""
    if not can_edit_client(viewer, client) or client.household_id is None:
        raise PermissionDenied
    if member is not None and member.household_id != client.household_id:
        raise PermissionDenied
    if member_client is not None and member_client.agency_id != client.agency_id:
        raise PermissionDenied
    created = member is None
    member = member or HouseholdMember(household_id=client.household_id)
    previous_client_id = member.client_id
    before = {} if created else {f: getattr(member, f) for f in MEMBER_FIELDS}
    for field in MEMBER_FIELDS:
        if field in fields:
            setattr(member, field, fields[field])
    member.birth_year = (
        _birth_year(fields) if ("birth_year" in fields or "age" in fields) else (member.birth_year)
    )
    member.client = member_client
    if member_client is not None:
        member.name = member.name or member_client.full_name
        if member_client.household_id is None:
            Client.objects.filter(pk=member_client.pk).update(household_id=client.household_id)
    member.full_clean()
    member.save()
    if previous_client_id and previous_client_id != member.client_id:
        Client.objects.filter(pk=previous_client_id, household_id=client.household_id).update(
            household=None
        )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="household.member_added" if created else "household.member_updated",
        target=member.household,
        changes=diff(
            before,
            {f: getattr(member, f) for f in MEMBER_FIELDS},
            masked=frozenset({"name", "note", "birth_year", "in_withdrawal"}),
        ),
    )
    return member


@transaction.atomic
def household_member_remove(*, viewer: Viewer, client: Client, member: HouseholdMember) -> None:
    if not can_edit_client(viewer, client) or member.household_id != client.household_id:
        raise PermissionDenied
    if member.relationship == Relationship.SELF:
        raise ValidationError(_("The client cannot be removed from their own household."))
    household = member.household
    member.delete()
    if member.client_id:
        # They are no longer in this household: their own record stops pointing at it.
        Client.objects.filter(pk=member.client_id, household_id=household.id).update(household=None)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="household.member_removed",
        target=household,
        changes={"relationship": [member.relationship, None]},
    )
