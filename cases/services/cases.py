"""Writes to a case: opening, changing, moving it through the stages, closing and reopening."""

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

from ..models import (
    STAGE_ORDER,
    Case,
    CaseTopic,
    Client,
    Outcome,
    Stage,
    StageMove,
    WithdrawalTrigger,
)
from ..permissions import can_edit_case, can_edit_client
from ._common import _check_choices

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
