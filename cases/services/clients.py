"""Writes to a client record: registering (with the possible-duplicate check), changing it, and
recording the first contact.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.permissions import Viewer
from audit.services import audit_record, diff
from core.japanese import search_key, to_katakana

from ..models import Client, ContactPreference
from ..permissions import can_edit_client, can_work_with_clients
from ..selectors import client_possible_duplicates
from ._common import _check_choices

CLIENT_FIELDS = (
    "full_name",
    "full_name_kana",
    "birth_date",
    "gender",
    "postal_code",
    "address",
    "phone",
    "phone_alt",
    "email",
    "contact_preferences",
    "contact_note",
    "wishes",
)
# What the audit trail may show in clear about a client change: which fields changed, never
# the personal values themselves.
CLIENT_MASKED = frozenset(CLIENT_FIELDS)


class PossibleDuplicateError(ValidationError):
    """The client may already be registered; the caller shows the matches and asks."""

    def __init__(self, matches: list[Client]):
        super().__init__(_("This person may already be registered."), code="possible_duplicate")
        self.matches = matches


def _apply_client_fields(client: Client, fields: dict[str, Any]) -> None:
    for field in CLIENT_FIELDS:
        if field in fields:
            setattr(client, field, fields[field])
    client.full_name = " ".join(client.full_name.split())
    client.full_name_kana = to_katakana(client.full_name_kana)
    client.contact_preferences = _check_choices(
        client.contact_preferences or [], ContactPreference, "contact_preferences"
    )
    client.name_key = search_key(client.full_name)
    client.kana_key = search_key(client.full_name_kana)


def _client_snapshot(client: Client) -> dict[str, Any]:
    return {field: getattr(client, field) for field in CLIENT_FIELDS}


@transaction.atomic
def client_create(
    *, viewer: Viewer, fields: dict[str, Any], duplicate_confirmed: bool = False
) -> Client:
    """Register a client in the viewer's agency.

    A possible duplicate (same reading and birth date, …) raises ``PossibleDuplicateError`` with the
    matches, unless the worker has looked at them and confirmed it is another person.
    """
    if not can_work_with_clients(viewer):
        raise PermissionDenied
    client = Client(agency=viewer.membership.agency, created_by=viewer.user)
    _apply_client_fields(client, fields)
    client.full_clean(exclude=["household", "created_by", "name_key", "kana_key"])
    if not duplicate_confirmed:
        matches = client_possible_duplicates(
            viewer=viewer,
            full_name=client.full_name,
            full_name_kana=client.full_name_kana,
            birth_date=client.birth_date,
        )
        if matches:
            raise PossibleDuplicateError(matches)
    client.save()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="client.created",
        target=client,
        changes=diff({}, _client_snapshot(client), masked=CLIENT_MASKED),
    )
    return client


@transaction.atomic
def client_update(*, viewer: Viewer, client: Client, fields: dict[str, Any]) -> Client:
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    client = Client.objects.select_for_update().get(pk=client.pk)
    before = _client_snapshot(client)
    _apply_client_fields(client, fields)
    client.full_clean(exclude=["household", "created_by", "name_key", "kana_key"])
    client.save()
    changes = diff(before, _client_snapshot(client), masked=CLIENT_MASKED)
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="client.updated",
            target=client,
            changes=changes,
        )
    return client


@transaction.atomic
def client_record_first_contact(*, viewer: Viewer, client: Client, on: date) -> Client:
    """The first direct contact with a person known only through family: an event."""
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.first_direct_contact_on is not None and client.first_direct_contact_on <= on:
        return client
    if on > timezone.localdate():
        raise ValidationError({"on": _("The date is in the future.")})
    client.first_direct_contact_on = on
    client.save(update_fields=["first_direct_contact_on", "updated_at"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="client.first_contact",
        target=client,
        changes={"first_direct_contact_on": [None, on.isoformat()]},
    )
    return client
