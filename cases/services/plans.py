"""Writes to support plans: the plan, its goals and items, the client's agreement, revising an
agreed version, and recording a review.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.permissions import Viewer

from ..models import (
    Achievement,
    AgreementMethod,
    Case,
    GoalReview,
    Outcome,
    Plan,
    PlanGoal,
    PlanItem,
    PlanReview,
    PlanStatus,
)
from ..permissions import can_edit_case
from ._common import _audit_plan, _check_choices


def _editable_plan(viewer: Viewer, plan: Plan) -> Plan:
    if not can_edit_case(viewer, plan.case):
        raise PermissionDenied
    plan = Plan.objects.select_for_update().select_related("case__client").get(pk=plan.pk)
    if not plan.is_editable:
        raise ValidationError(
            _("This version was agreed and is kept as it is; revise the plan to change it.")
        )
    return plan


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
