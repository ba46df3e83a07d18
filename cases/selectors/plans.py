"""Support plans: a case's plans (with or without their details), one plan, and what changed
between two versions.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from agencies.permissions import Viewer

from ..models import Case, Client, GoalReview, Plan, PlanGoal, PlanItem, PlanReview
from .scope import _refused, case_scope


def _plans_with_details(plans: QuerySet[Plan]) -> QuerySet[Plan]:
    return plans.select_related("case__client", "approved_at", "created_by").prefetch_related(
        "goals",
        Prefetch("items", queryset=PlanItem.objects.select_related("agency", "goal")),
        Prefetch(
            "reviews",
            queryset=PlanReview.objects.select_related("reviewed_by").prefetch_related(
                Prefetch("goal_reviews", queryset=GoalReview.objects.select_related("goal"))
            ),
        ),
    )


def _with_counts(plans: QuerySet[Plan]) -> QuerySet[Plan]:
    """``goal_count`` and ``item_count`` in the plans' own query (the plan panel shows them)."""

    def count(model) -> Coalesce:
        return Coalesce(
            Subquery(
                model.objects.filter(plan=OuterRef("pk"))
                .order_by()
                .values("plan")
                .annotate(n=Count("id"))
                .values("n")
            ),
            0,
        )

    return plans.annotate(goal_count=count(PlanGoal), item_count=count(PlanItem))


def case_plan_summary(*, viewer: Viewer, case: Case) -> list[Plan]:
    """The newest two versions of the case's plan (the one being revised and the one still in
    force) with their goal and item counts, in one query, for the client page's plan panel."""
    plans = Plan.objects.filter(case=case, case__in=case_scope(viewer=viewer))
    return list(_with_counts(plans).select_related("approved_at").order_by("-version")[:2])


def case_plans(*, viewer: Viewer, case: Case) -> list[Plan]:
    """Every version of the case's plan, newest first, with goals, items and reviews."""
    plans = Plan.objects.filter(case=case, case__in=case_scope(viewer=viewer))
    return list(_with_counts(_plans_with_details(plans)).order_by("-version"))


def plan_get(*, viewer: Viewer, public_id: UUID) -> Plan:
    plan = (
        _plans_with_details(Plan.objects.filter(case__in=case_scope(viewer=viewer)))
        .filter(public_id=public_id)
        .first()
    )
    if plan is None:
        _refused(viewer, Client.objects.filter(cases__plans__public_id=public_id))
    return plan


@dataclass(frozen=True)
class PlanChanges:
    goals_added: list[str]
    goals_removed: list[str]
    items_added: list[str]
    items_removed: list[str]
    items_changed: list[str]
    client_words_changed: bool
    review_on_changed: bool

    @property
    def any(self) -> bool:
        return any(
            (
                self.goals_added,
                self.goals_removed,
                self.items_added,
                self.items_removed,
                self.items_changed,
                self.client_words_changed,
                self.review_on_changed,
            )
        )


def plan_changes(*, plan: Plan, previous: Plan) -> PlanChanges:
    """What a revision changed against the version it revises (both already fetched with
    their goals and items)."""
    old_goals = [g.text for g in previous.goals.all()]
    new_goals = [g.text for g in plan.goals.all()]

    def item_key(item: PlanItem) -> str:
        return item.what

    def item_shape(item: PlanItem) -> tuple:
        return (item.agency_id, item.program, item.frequency, item.responsible)

    old_items = {item_key(i): i for i in previous.items.all()}
    new_items = {item_key(i): i for i in plan.items.all()}
    return PlanChanges(
        goals_added=[g for g in new_goals if g not in old_goals],
        goals_removed=[g for g in old_goals if g not in new_goals],
        items_added=[k for k in new_items if k not in old_items],
        items_removed=[k for k in old_items if k not in new_items],
        items_changed=[
            k
            for k in new_items
            if k in old_items and item_shape(new_items[k]) != item_shape(old_items[k])
        ],
        client_words_changed=plan.client_words != previous.client_words,
        review_on_changed=plan.review_on != previous.review_on,
    )
