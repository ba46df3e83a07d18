"""Plan review is coming up: the agency's ``plan_review_days_before`` days before the review
date of an agreed or approved support plan of an open case, unless it has been reviewed since
that many days before the date. To the case's primary caseworker, due that many days before the
review date. Title: the label of ``Kind.PLAN_REVIEW_DUE``."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import DateField, Exists, ExpressionWrapper, OuterRef

from cases.models import Plan, PlanReview, PlanStatus, Stage

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("plan_review_days_before"):
        before = timedelta(days=days)
        # Reviewed in the days before the date (or after it): the reminder has done its work.
        reviewed = PlanReview.objects.filter(
            plan=OuterRef("pk"),
            reviewed_on__gte=ExpressionWrapper(OuterRef("review_on") - before, DateField()),
        )
        plans = (
            Plan.objects.filter(
                status__in=[PlanStatus.AGREED, PlanStatus.APPROVED],
                case__agency__plan_review_days_before=days,
                review_on__isnull=False,
            )
            .exclude(case__stage=Stage.CLOSED)
            .exclude(Exists(reviewed))
        )
        if today is not None:
            plans = plans.filter(review_on__lte=today + before)
        fields = ["public_id", "review_on", "case__primary_worker_id", "case__agency_id"]
        for rows in _keyset(_only(plans, targets), fields, batch_size):
            yield [
                (
                    Kind.PLAN_REVIEW_DUE,
                    TargetType.PLAN,
                    str(r["public_id"]),
                    r["review_on"] - before,
                    r["case__primary_worker_id"],
                    r["case__agency_id"],
                )
                for r in rows
            ]
