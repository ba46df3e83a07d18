"""Writes to clients, households, cases and consultation records.

Each takes the acting viewer first, checks permission with ``cases.permissions``, writes its
audit entry (personal data masked) and runs in one transaction.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer
from audit.services import audit_record, diff
from core.japanese import search_key, to_katakana

from .models import (
    STAGE_ORDER,
    Case,
    CaseTopic,
    Client,
    Consultation,
    ConsultationRevision,
    ContactPreference,
    Household,
    HouseholdMember,
    Outcome,
    Relationship,
    Stage,
    StageMove,
    WithdrawalTrigger,
)
from .permissions import can_edit_case, can_edit_client, can_work_with_clients
from .selectors import client_possible_duplicates

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


def _check_choices(values: list[str], choices: type, field: str) -> list[str]:
    unknown = [v for v in values if v not in choices.values]
    if unknown:
        raise ValidationError({field: _("Unknown choice: %(value)s") % {"value": unknown[0]}})
    return list(dict.fromkeys(values))


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


# --- Households ---------------------------------------------------------------------------------

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
            masked=frozenset({"name", "note", "birth_year"}),
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


# --- Cases -------------------------------------------------------------------------------------

CASE_FIELDS = (
    "opened_on",
    "origin",
    "support_type",
    "withdrawal_duration",
    "withdrawal_triggers",
    "going_out",
)


def _check_worker(agency: Agency, user: User) -> User:
    if not Membership.objects.filter(
        agency=agency, user=user, is_active=True, role__in=[Role.CASEWORKER, Role.SUPERVISOR]
    ).exists():
        raise ValidationError(
            {"primary_worker": _("%(name)s is not a caseworker of this agency.") % {"name": user}}
        )
    return user


def _set_topics(case: Case, topics: list[str], main_topic: str) -> None:
    if not topics:
        raise ValidationError({"topics": _("Choose at least one topic.")})
    if main_topic not in topics:
        raise ValidationError({"main_topic": _("The main topic must be one of the topics.")})
    CaseTopic.objects.filter(case=case).delete()
    CaseTopic.objects.bulk_create(
        CaseTopic(case=case, topic=topic, is_main=topic == main_topic) for topic in topics
    )


@transaction.atomic
def case_open(
    *,
    viewer: Viewer,
    client: Client,
    fields: dict[str, Any],
    topics: list[str],
    main_topic: str,
    primary_worker: User,
    co_workers: list[User] = (),
) -> Case:
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    # Lock the client so two workers opening a case at once cannot both succeed.
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.cases.exclude(stage=Stage.CLOSED).exists():
        raise ValidationError(_("This client already has an open case."))
    case = Case(client=client, agency=client.agency, stage=Stage.INTAKE)
    for field in CASE_FIELDS:
        if field in fields:
            setattr(case, field, fields[field])
    case.withdrawal_triggers = _check_choices(
        case.withdrawal_triggers or [], WithdrawalTrigger, "withdrawal_triggers"
    )
    case.primary_worker = _check_worker(client.agency, primary_worker)
    case.full_clean()
    case.save()
    case.co_workers.set([_check_worker(client.agency, u) for u in co_workers])
    _set_topics(case, topics, main_topic)
    StageMove.objects.create(
        case=case,
        from_stage="",
        to_stage=Stage.INTAKE,
        moved_on=case.opened_on,
        moved_by=viewer.user,
        reason="",  # the opening itself; the page says "Case opened" in the reader's language
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="case.opened",
        target=case,
        changes=diff(
            {}, {"origin": case.origin, "topics": topics, "primary_worker": primary_worker}
        ),
    )
    return case


@transaction.atomic
def case_update(
    *,
    viewer: Viewer,
    case: Case,
    fields: dict[str, Any],
    topics: list[str],
    main_topic: str,
    primary_worker: User,
    co_workers: list[User],
) -> Case:
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().get(pk=case.pk)
    snapshot_fields = (*CASE_FIELDS, "primary_worker")
    before = {f: getattr(case, f) for f in snapshot_fields}
    before["topics"] = sorted(case.topics.values_list("topic", flat=True))
    before["co_workers"] = [str(u) for u in case.co_workers.all()]
    for field in CASE_FIELDS:
        if field in fields:
            setattr(case, field, fields[field])
    case.withdrawal_triggers = _check_choices(
        case.withdrawal_triggers or [], WithdrawalTrigger, "withdrawal_triggers"
    )
    case.primary_worker = _check_worker(case.agency, primary_worker)
    case.full_clean()
    case.save()
    case.co_workers.set([_check_worker(case.agency, u) for u in co_workers])
    _set_topics(case, topics, main_topic)
    after = {f: getattr(case, f) for f in snapshot_fields}
    after["topics"] = sorted(topics)
    after["co_workers"] = [str(u) for u in co_workers]
    changes = diff(before, after)
    if changes:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="case.updated",
            target=case,
            changes=changes,
        )
    return case


def _move(case: Case, *, viewer: Viewer, to_stage: str, on: date, reason: str) -> StageMove:
    if not reason.strip():
        raise ValidationError({"reason": _("Write the reason for the move.")})
    if on > timezone.localdate():
        raise ValidationError({"moved_on": _("The date is in the future.")})
    if on < case.opened_on:
        raise ValidationError({"moved_on": _("The date is before the case was opened.")})
    move = StageMove.objects.create(
        case=case,
        from_stage=case.stage,
        to_stage=to_stage,
        moved_on=on,
        moved_by=viewer.user,
        reason=reason.strip(),
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="case.stage_moved",
        target=case,
        changes={"stage": [case.stage, to_stage]},
    )
    return move


@transaction.atomic
def case_move_stage(
    *, viewer: Viewer, case: Case, to_stage: str, on: date, reason: str
) -> StageMove:
    """Move an open case to any working stage, forward or back, or suspend it (中断).

    Support is not linear (2021 notice 2(3)): every move is kept with its date, who and why.
    Closing and reopening have their own services (they carry outcomes and a new start).
    """
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it first."))
    if to_stage not in {*STAGE_ORDER, Stage.SUSPENDED}:
        raise ValidationError({"to_stage": _("Choose a stage.")})
    if to_stage == case.stage:
        raise ValidationError({"to_stage": _("The case is already at this stage.")})
    move = _move(case, viewer=viewer, to_stage=to_stage, on=on, reason=reason)
    case.stage = to_stage
    case.save(update_fields=["stage", "updated_at"])
    return move


@transaction.atomic
def case_close(
    *, viewer: Viewer, case: Case, on: date, outcomes: list[str], reason: str, note: str = ""
) -> Case:
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("The case is already closed."))
    if not outcomes:
        raise ValidationError({"outcomes": _("Choose at least one outcome.")})
    outcomes = _check_choices(outcomes, Outcome, "outcomes")
    _move(case, viewer=viewer, to_stage=Stage.CLOSED, on=on, reason=reason)
    case.stage = Stage.CLOSED
    case.closed_on = on
    case.outcomes = outcomes
    case.closure_note = note
    case.save(update_fields=["stage", "closed_on", "outcomes", "closure_note", "updated_at"])
    return case


@transaction.atomic
def case_reopen(
    *, viewer: Viewer, case: Case, on: date, reason: str, to_stage: str = Stage.INTAKE
) -> Case:
    """Reopen a closed case (people come back); the closure stays in the history."""
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    # Lock the client first: the one-open-case rule is checked against its other cases.
    Client.objects.select_for_update().get(pk=case.client_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_open:
        raise ValidationError(_("The case is open."))
    if Case.objects.filter(client_id=case.client_id).exclude(stage=Stage.CLOSED).exists():
        raise ValidationError(_("This client already has an open case."))
    if to_stage not in STAGE_ORDER:
        raise ValidationError({"to_stage": _("Choose a stage.")})
    _move(case, viewer=viewer, to_stage=to_stage, on=on, reason=reason)
    case.stage = to_stage
    case.closed_on = None
    case.save(update_fields=["stage", "closed_on", "updated_at"])
    return case


# --- Consultation records ------------------------------------------------------------------------

CONSULTATION_FIELDS = (
    "occurred_on",
    "start_time",
    "duration_minutes",
    "method",
    "with_client",
    "family_member",
    "partner_agency",
    "summary",
    "notes",
    "next_contact_on",
    "tags",
)


def _apply_consultation(consultation: Consultation, fields: dict[str, Any]) -> None:
    for field in CONSULTATION_FIELDS:
        if field in fields:
            setattr(consultation, field, fields[field])
    consultation.tags = list(dict.fromkeys(t.strip() for t in consultation.tags or [] if t.strip()))
    member = consultation.family_member
    if member is not None and member.household_id != consultation.case.client.household_id:
        raise ValidationError({"family_member": _("Choose a member of the client's household.")})
    if consultation.occurred_on and consultation.occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("The date is in the future.")})
    if (
        consultation.next_contact_on
        and consultation.occurred_on
        and consultation.next_contact_on < consultation.occurred_on
    ):
        raise ValidationError(
            {"next_contact_on": _("The next contact is before this consultation.")}
        )
    consultation.full_clean(exclude=["case", "created_by"])


def _refresh_case_contacts(case: Case) -> None:
    """Keep the dashboard's columns in step with the records (the rows are the truth)."""
    latest = case.consultations.order_by("-occurred_on", "-id").first()
    case.last_contact_on = latest.occurred_on if latest else None
    case.next_contact_on = latest.next_contact_on if latest else None
    case.save(update_fields=["last_contact_on", "next_contact_on", "updated_at"])


@transaction.atomic
def consultation_log(
    *, viewer: Viewer, case: Case, fields: dict[str, Any], staff: list[User] = ()
) -> Consultation:
    """Log a consultation the same day it happened; the quick entry calls this."""
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().select_related("client").get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it to log a consultation."))
    consultation = Consultation(case=case, created_by=viewer.user)
    _apply_consultation(consultation, fields)
    consultation.save()
    consultation.staff.set(list(staff) or [viewer.user])
    _refresh_case_contacts(case)
    if consultation.with_client and case.client.first_direct_contact_on is None:
        client_record_first_contact(viewer=viewer, client=case.client, on=consultation.occurred_on)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consultation.logged",
        target=consultation,
        changes={"occurred_on": [None, consultation.occurred_on.isoformat()]},
    )
    return consultation


@transaction.atomic
def consultation_correct(
    *,
    viewer: Viewer,
    consultation: Consultation,
    fields: dict[str, Any],
    staff: list[User],
    reason: str = "",
) -> Consultation:
    """Correct a record. Nothing is silently overwritten: the earlier text is kept as a
    revision, shown in the record's history with who corrected it and when."""
    if not can_edit_case(viewer, consultation.case):
        raise PermissionDenied
    consultation = (
        Consultation.objects.select_for_update()
        .select_related("case__client")
        .get(pk=consultation.pk)
    )
    previous = {
        field: _revision_value(getattr(consultation, field)) for field in CONSULTATION_FIELDS
    }
    previous["staff"] = sorted(str(u) for u in consultation.staff.all())
    _apply_consultation(consultation, fields)
    current = {
        field: _revision_value(getattr(consultation, field)) for field in CONSULTATION_FIELDS
    }
    current["staff"] = sorted(str(u) for u in staff)
    changed = {k for k in current if current[k] != previous[k]}
    if not changed:
        return consultation
    ConsultationRevision.objects.create(
        consultation=consultation, edited_by=viewer.user, previous=previous, reason=reason
    )
    consultation.save()
    consultation.staff.set(staff)
    _refresh_case_contacts(consultation.case)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="consultation.corrected",
        target=consultation,
        changes={field: ["…", "…"] for field in sorted(changed)},
    )
    return consultation


def _revision_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
