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
    Achievement,
    AgreementMethod,
    Case,
    CaseTopic,
    Client,
    Consultation,
    ConsultationRevision,
    ContactPreference,
    Decision,
    GoalReview,
    HomeVisit,
    Household,
    HouseholdMember,
    Meeting,
    MeetingCase,
    Outcome,
    Plan,
    PlanGoal,
    PlanItem,
    PlanReview,
    PlanStatus,
    Relationship,
    Stage,
    StageMove,
    SupporterAssignment,
    WithdrawalTrigger,
)
from .permissions import (
    can_edit_case,
    can_edit_client,
    can_host_meeting,
    can_work_with_clients,
    is_supporter,
)
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


# --- Cases -------------------------------------------------------------------------------------

CASE_FIELDS = (
    "opened_on",
    "origin",
    "support_type",
    "withdrawal_duration",
    "withdrawal_triggers",
    "going_out",
)
# The audit trail is read by system admins, who see no client data: the hikikomori situation is
# special-care data (心身の状況) and the topics name illness, abuse or debt. The entry says that
# they changed, not to what.
CASE_MASKED = frozenset({"withdrawal_duration", "withdrawal_triggers", "going_out", "topics"})


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
            {},
            {"origin": case.origin, "topics": topics, "primary_worker": primary_worker},
            masked=CASE_MASKED,
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
    changes = diff(before, after, masked=CASE_MASKED)
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


# --- Support plans --------------------------------------------------------------------------------


def _editable_plan(viewer: Viewer, plan: Plan) -> Plan:
    if not can_edit_case(viewer, plan.case):
        raise PermissionDenied
    plan = Plan.objects.select_for_update().select_related("case__client").get(pk=plan.pk)
    if not plan.is_editable:
        raise ValidationError(
            _("This version was agreed and is kept as it is; revise the plan to change it.")
        )
    return plan


def _audit_plan(viewer: Viewer, plan: Plan, action: str, changes: dict | None = None) -> None:
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action=action,
        target=plan,
        changes=changes or {},
    )


@transaction.atomic
def plan_create(
    *, viewer: Viewer, case: Case, client_words: str = "", review_on: date | None = None
) -> Plan:
    if not can_edit_case(viewer, case):
        raise PermissionDenied
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it first."))
    if case.plans.exists():
        raise ValidationError(_("This case has a plan already; revise it instead."))
    plan = Plan.objects.create(
        case=case,
        version=1,
        client_words=client_words,
        review_on=review_on,
        created_by=viewer.user,
    )
    _audit_plan(viewer, plan, "plan.created")
    return plan


@transaction.atomic
def plan_update(*, viewer: Viewer, plan: Plan, client_words: str, review_on: date | None) -> Plan:
    plan = _editable_plan(viewer, plan)
    plan.client_words = client_words  # verbatim: never normalised
    plan.review_on = review_on
    plan.save(update_fields=["client_words", "review_on", "updated_at"])
    return plan


@transaction.atomic
def plan_goal_save(*, viewer: Viewer, plan: Plan, goal: PlanGoal | None, text: str) -> PlanGoal:
    plan = _editable_plan(viewer, plan)
    if not text.strip():
        raise ValidationError({"text": _("Write the goal in the client's words.")})
    if goal is None:
        goal = PlanGoal(plan=plan, position=plan.goals.count())
    elif goal.plan_id != plan.pk:
        raise PermissionDenied
    goal.text = text
    goal.save()
    return goal


@transaction.atomic
def plan_goal_remove(*, viewer: Viewer, plan: Plan, goal: PlanGoal) -> None:
    plan = _editable_plan(viewer, plan)
    if goal.plan_id != plan.pk:
        raise PermissionDenied
    goal.delete()


ITEM_FIELDS = ("what", "agency", "program", "frequency", "responsible", "goal")


@transaction.atomic
def plan_item_save(
    *, viewer: Viewer, plan: Plan, item: PlanItem | None, fields: dict[str, Any]
) -> PlanItem:
    """Add or change a support item; the agency may be this one or a partner (role division)."""
    plan = _editable_plan(viewer, plan)
    if item is None:
        item = PlanItem(plan=plan, position=plan.items.count())
    elif item.plan_id != plan.pk:
        raise PermissionDenied
    for field in ITEM_FIELDS:
        if field in fields:
            setattr(item, field, fields[field])
    if item.goal_id and item.goal.plan_id != plan.pk:
        raise ValidationError({"goal": _("Choose a goal of this plan.")})
    item.full_clean(exclude=["plan"])
    item.save()
    return item


@transaction.atomic
def plan_item_remove(*, viewer: Viewer, plan: Plan, item: PlanItem) -> None:
    plan = _editable_plan(viewer, plan)
    if item.plan_id != plan.pk:
        raise PermissionDenied
    item.delete()


@transaction.atomic
def plan_items_reorder(*, viewer: Viewer, plan: Plan, item_ids: list[int]) -> None:
    """Put the items in the given order (ids of this plan's items, first to last)."""
    plan = _editable_plan(viewer, plan)
    items = {item.id: item for item in plan.items.all()}
    if set(item_ids) != set(items):
        raise ValidationError(_("The list of items has changed; reload the page."))
    for position, item_id in enumerate(item_ids):
        items[item_id].position = position
    PlanItem.objects.bulk_update(items.values(), ["position"])


@transaction.atomic
def plan_record_agreement(*, viewer: Viewer, plan: Plan, agreed_on: date, method: str) -> Plan:
    """The client agreed to this version: it is frozen, and the version it revises steps down."""
    plan = _editable_plan(viewer, plan)
    if not plan.goals.exists() or not plan.items.exists():
        raise ValidationError(_("A plan needs at least one goal and one support item."))
    if method not in AgreementMethod.values:
        raise ValidationError({"method": _("Choose how the client agreed.")})
    if agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": _("The date is in the future.")})
    plan.status = PlanStatus.AGREED
    plan.agreed_on = agreed_on
    plan.agreement_method = method
    plan.save(update_fields=["status", "agreed_on", "agreement_method", "updated_at"])
    if plan.revision_of_id:
        Plan.objects.filter(pk=plan.revision_of_id).update(status=PlanStatus.SUPERSEDED)
    _audit_plan(viewer, plan, "plan.agreed", {"status": [PlanStatus.DRAFT, PlanStatus.AGREED]})
    return plan


@transaction.atomic
def plan_revise(*, viewer: Viewer, plan: Plan, reason: str) -> Plan:
    """Start a revision (再プラン): a new draft version with the same goals and items. The
    earlier version stays readable as it was."""
    if not can_edit_case(viewer, plan.case):
        raise PermissionDenied
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.is_editable:
        raise ValidationError(_("This version is still a draft; change it directly."))
    if hasattr(plan, "revised_by"):
        raise ValidationError(_("This version has been revised already."))
    if not reason.strip():
        raise ValidationError({"reason": _("Write why the plan is revised.")})
    latest = plan.case.plans.order_by("-version").first()
    revision = Plan.objects.create(
        case=plan.case,
        version=latest.version + 1,
        revision_of=plan,
        client_words=plan.client_words,
        review_on=plan.review_on,
        revision_reason=reason.strip(),
        created_by=viewer.user,
    )
    goal_map = {}
    for goal in plan.goals.all():
        goal_map[goal.id] = PlanGoal.objects.create(
            plan=revision, position=goal.position, text=goal.text
        )
    PlanItem.objects.bulk_create(
        PlanItem(
            plan=revision,
            goal=goal_map.get(item.goal_id),
            position=item.position,
            what=item.what,
            agency_id=item.agency_id,
            program=item.program,
            frequency=item.frequency,
            responsible=item.responsible,
        )
        for item in plan.items.all()
    )
    _audit_plan(viewer, revision, "plan.revised", {"version": [plan.version, revision.version]})
    return revision


@transaction.atomic
def plan_review_record(
    *,
    viewer: Viewer,
    plan: Plan,
    reviewed_on: date,
    note: str,
    goal_results: list[dict[str, Any]],
) -> PlanReview:
    """Record a review (評価): for each goal, how far it went and what came of it.

    ``goal_results``: [{"goal": PlanGoal, "achievement": str, "outcomes": [str], "comment": str}]
    """
    if not can_edit_case(viewer, plan.case):
        raise PermissionDenied
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in {PlanStatus.AGREED, PlanStatus.APPROVED}:
        raise ValidationError(_("Only an agreed plan can be reviewed."))
    goals = {goal.id: goal for goal in plan.goals.all()}
    if {r["goal"].id for r in goal_results} != set(goals):
        raise ValidationError(_("Review every goal of the plan."))
    review = PlanReview.objects.create(
        plan=plan, reviewed_on=reviewed_on, reviewed_by=viewer.user, note=note
    )
    for result in goal_results:
        if result["achievement"] not in Achievement.values:
            raise ValidationError({"achievement": _("Choose how far the goal went.")})
        GoalReview.objects.create(
            review=review,
            goal=goals[result["goal"].id],
            achievement=result["achievement"],
            outcomes=_check_choices(result.get("outcomes", []), Outcome, "outcomes"),
            comment=result.get("comment", ""),
        )
    _audit_plan(viewer, plan, "plan.reviewed")
    return review


# --- 支援調整会議 --------------------------------------------------------------------------------

MEETING_FIELDS = ("held_on", "start_time", "place", "minutes", "other_participants")


@transaction.atomic
def meeting_save(
    *,
    viewer: Viewer,
    meeting: Meeting | None,
    fields: dict[str, Any],
    participant_agencies: list[Agency],
    participant_users: list[User],
) -> Meeting:
    """Record (meeting=None) or change a support coordination meeting of the viewer's agency."""
    if not can_work_with_clients(viewer):
        raise PermissionDenied
    created = meeting is None
    if created:
        meeting = Meeting(agency=viewer.membership.agency, created_by=viewer.user)
    else:
        if not can_host_meeting(viewer, meeting):
            raise PermissionDenied
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for field in MEETING_FIELDS:
        if field in fields:
            setattr(meeting, field, fields[field])
    meeting.full_clean(exclude=["agency", "created_by"])
    meeting.save()
    agencies = {a.pk: a for a in participant_agencies}
    agencies.setdefault(meeting.agency_id, meeting.agency)
    meeting.participant_agencies.set(agencies.values())
    meeting.participant_users.set(participant_users)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="meeting.created" if created else "meeting.updated",
        target=meeting,
        changes={"held_on": [None, meeting.held_on.isoformat()]} if created else {},
    )
    return meeting


@transaction.atomic
def meeting_case_record(
    *,
    viewer: Viewer,
    meeting: Meeting,
    case: Case,
    plan: Plan | None,
    decisions: list[str],
    next_review_on: date | None,
    note: str,
) -> MeetingCase:
    """Record what the meeting decided for one case. Approving a plan marks that version
    approved at this meeting."""
    if not can_host_meeting(viewer, meeting) or not can_edit_case(viewer, case):
        raise PermissionDenied
    decisions = _check_choices(decisions, Decision, "decisions")
    if plan is not None and plan.case_id != case.pk:
        raise ValidationError({"plan": _("Choose a plan of this case.")})
    if Decision.PLAN_APPROVED in decisions:
        if plan is None:
            raise ValidationError({"plan": _("Choose the plan version that was approved.")})
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        # Changing the record of a case later (a note, the next review) keeps the approval this
        # meeting gave: approving again at the same meeting is not an error, and not a new event.
        approved_here = plan.status == PlanStatus.APPROVED and plan.approved_at_id == meeting.pk
        if not approved_here and plan.status != PlanStatus.AGREED:
            raise ValidationError(
                {"plan": _("Only a version the client agreed to can be approved.")}
            )
        if not approved_here:
            plan.status = PlanStatus.APPROVED
            plan.approved_at = meeting
            if next_review_on:
                plan.review_on = next_review_on
            plan.save(update_fields=["status", "approved_at", "review_on", "updated_at"])
            _audit_plan(viewer, plan, "plan.approved", {"status": ["agreed", "approved"]})
    item, _created = MeetingCase.objects.update_or_create(
        meeting=meeting,
        case=case,
        defaults={
            "plan": plan,
            "decisions": decisions,
            "next_review_on": next_review_on,
            "note": note,
        },
    )
    return item


# --- Supporters and home visits -------------------------------------------------------------


@transaction.atomic
def supporter_assign(
    *, viewer: Viewer, client: Client, supporter: Membership, approach_note: str = ""
) -> SupporterAssignment:
    if not can_edit_client(viewer, client):
        raise PermissionDenied
    if (
        supporter.agency_id != client.agency_id
        or supporter.role != Role.SUPPORTER
        or not supporter.is_active
    ):
        raise ValidationError({"supporter": _("Choose an active supporter of this agency.")})
    assignment, created = SupporterAssignment.objects.get_or_create(
        client=client,
        supporter=supporter,
        ended_on=None,
        defaults={"approach_note": approach_note, "assigned_by": viewer.user},
    )
    if not created and approach_note != assignment.approach_note:
        assignment.approach_note = approach_note
        assignment.save(update_fields=["approach_note"])
    if created:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="supporter.assigned",
            target=client,
            changes={"supporter": [None, str(supporter.user)]},
        )
    return assignment


@transaction.atomic
def supporter_unassign(*, viewer: Viewer, assignment: SupporterAssignment) -> None:
    if not can_edit_client(viewer, assignment.client):
        raise PermissionDenied
    updated = SupporterAssignment.objects.filter(pk=assignment.pk, ended_on=None).update(
        ended_on=timezone.localdate()
    )
    if updated:
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="supporter.unassigned",
            target=assignment.client,
            changes={"supporter": [str(assignment.supporter.user), None]},
        )


@transaction.atomic
def home_visit_log(*, viewer: Viewer, client: Client, fields: dict[str, Any]) -> HomeVisit:
    """A supporter records a household visit; only for a client they are assigned to."""
    if (
        not is_supporter(viewer)
        or not SupporterAssignment.objects.filter(
            client=client, supporter=viewer.membership, ended_on=None
        ).exists()
    ):
        raise PermissionDenied
    visit = HomeVisit(client=client, supporter=viewer.user)
    for field in ("visited_on", "outcome", "heard", "is_urgent", "urgent_note"):
        if field in fields:
            setattr(visit, field, fields[field])
    if visit.is_urgent and not visit.urgent_note.strip():
        raise ValidationError({"urgent_note": _("Write what is urgent.")})
    if visit.visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("The date is in the future.")})
    visit.full_clean(exclude=["client", "supporter"])
    visit.save()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="visit.logged",
        target=visit,
        changes={"outcome": [None, visit.outcome], "is_urgent": [None, visit.is_urgent]},
    )
    return visit


@transaction.atomic
def home_visit_acknowledge(*, viewer: Viewer, visit: HomeVisit) -> HomeVisit:
    """The caseworker has seen an urgent visit: the flag comes off the dashboard."""
    if not can_edit_client(viewer, visit.client):
        raise PermissionDenied
    HomeVisit.objects.filter(pk=visit.pk, acknowledged_at=None).update(
        acknowledged_by=viewer.user, acknowledged_at=timezone.now()
    )
    visit.refresh_from_db()
    return visit
