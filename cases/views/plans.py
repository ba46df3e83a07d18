"""The support plan (プラン兼事業等利用申込書): the editor of a draft, the client's agreement,
revisions (再プラン) with what changed, reviews (評価) per goal, and the printable A4 form.

Plans are fetched through ``cases.selectors`` (``case_get``, ``plan_get``): another agency's
plan is a 404. Every change is one service call. The editor's actions answer htmx with the
editor partial re-rendered (what was typed kept when refused) and a plain post with a redirect
back to the plan (POST/redirect/GET).
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.forms import add_service_errors

from .. import services
from ..forms.plans import (
    AgreementForm,
    GoalForm,
    GoalReviewForm,
    ItemForm,
    PlanForm,
    ReorderForm,
    ReviewForm,
    ReviseForm,
)
from ..models import Plan, PlanGoal, PlanItem, PlanStatus, Program
from ..permissions import can_edit_case
from ..selectors import case_get, case_plans, plan_changes, plan_get

PAGE = "cases/plan_detail.html"
EDITOR = "cases/plan_detail.html#editor"
EDITOR_ID = "plan-editor"
# The service's own refusal, said before any form is read.
FROZEN = gettext_lazy("This version was agreed and is kept as it is; revise the plan to change it.")


@dataclass(frozen=True)
class GoalRow:
    number: int
    goal: PlanGoal

    @property
    def edit_id(self) -> str:
        return f"goal-{self.goal.pk}-edit"


@dataclass(frozen=True)
class ItemRow:
    number: int
    item: PlanItem
    goal_number: int | None
    up: list[int] | None  # the order of the ids once this item moved up; None at the top
    down: list[int] | None

    # The ids of its buttons: the editor puts the focus back on one after a change.
    @property
    def up_id(self) -> str:
        return f"item-{self.item.pk}-up"

    @property
    def down_id(self) -> str:
        return f"item-{self.item.pk}-down"

    @property
    def edit_id(self) -> str:
        return f"item-{self.item.pk}-edit"


def _goal_rows(plan: Plan) -> list[GoalRow]:
    return [GoalRow(number, goal) for number, goal in enumerate(plan.goals.all(), start=1)]


def _item_rows(plan: Plan) -> list[ItemRow]:
    goal_numbers = {goal.pk: number for number, goal in enumerate(plan.goals.all(), start=1)}
    items = list(plan.items.all())
    ids = [item.pk for item in items]
    rows = []
    for index, item in enumerate(items):
        up = down = None
        if index > 0:
            up = [*ids[: index - 1], ids[index], ids[index - 1], *ids[index + 1 :]]
        if index < len(ids) - 1:
            down = [*ids[:index], ids[index + 1], ids[index], *ids[index + 2 :]]
        rows.append(ItemRow(index + 1, item, goal_numbers.get(item.goal_id), up, down))
    return rows


def _context(request: HttpRequest, plan: Plan, **extra: Any) -> dict[str, Any]:
    """What every plan page shows: the versions, what changed from the previous one, the
    items in order. The previous version comes from ``case_plans`` with its goals and items
    (``plan_changes`` compares them), so no version costs a query of its own."""
    versions = case_plans(viewer=request.viewer, case=plan.case)
    previous = next((v for v in versions if v.pk == plan.revision_of_id), None)
    revision = next((v for v in versions if v.revision_of_id == plan.pk), None)
    editable = plan.is_editable and can_edit_case(request.viewer, plan.case)
    final = plan.status in {PlanStatus.AGREED, PlanStatus.APPROVED}
    return {
        "plan": plan,
        "case": plan.case,
        "client": plan.case.client,
        "versions": versions,
        "previous": previous,
        "revision": revision,
        "changes": plan_changes(plan=plan, previous=previous) if previous else None,
        "goal_rows": _goal_rows(plan),
        "item_rows": _item_rows(plan),
        "editable": editable,
        "can_revise": final and revision is None and can_edit_case(request.viewer, plan.case),
        "can_review": final and can_edit_case(request.viewer, plan.case),
        **extra,
    }


def _editor(
    request: HttpRequest,
    plan: Plan,
    *,
    plan_form: PlanForm | None = None,
    goal_form: GoalForm | None = None,
    item_form: ItemForm | None = None,
    editing_goal: PlanGoal | None = None,
    editing_item: PlanItem | None = None,
    edit_form: GoalForm | ItemForm | None = None,
    notice: str = "",
    focus: str = "",
) -> HttpResponse:
    """The plan page, or with htmx its editor alone; forms not given are fresh.

    ``focus`` is the id of the element to put the cursor on once the editor is swapped in
    (htmx focuses an ``autofocus`` element of new content); a refused form focuses its first
    error instead, and a goal or item just opened for editing its first field.
    """
    if editing_goal is not None and edit_form is None:
        edit_form = GoalForm.for_goal(editing_goal)
        focus = focus or edit_form["text"].id_for_label
    if editing_item is not None and edit_form is None:
        edit_form = ItemForm(plan=plan, item=editing_item)
        focus = focus or edit_form["what"].id_for_label
    plan_form = plan_form or PlanForm.for_plan(plan)
    goal_form = goal_form or GoalForm.for_goal(None)
    item_form = item_form or ItemForm(plan=plan)
    forms = [f for f in (plan_form, goal_form, item_form, edit_form) if f is not None]
    for form in forms:
        first_error = next((name for name in form.fields if name in form.errors), None)
        if first_error:
            focus = form[first_error].id_for_label
            break
    for form in forms if focus else []:
        for field in form:
            if field.id_for_label == focus:
                field.field.widget.attrs["autofocus"] = True
    context = _context(
        request,
        plan,
        plan_form=plan_form,
        goal_form=goal_form,
        item_form=item_form,
        editing_goal=editing_goal,
        editing_item=editing_item,
        edit_form=edit_form,
        notice=notice,
        focus=focus,
    )
    template = EDITOR if request.htmx and request.htmx.target == EDITOR_ID else PAGE
    return render(request, template, context)


def _done(
    request: HttpRequest, plan: Plan, notice: str, *, anchor: str, focus: str = ""
) -> HttpResponse:
    """After a change: the editor again (htmx, read afresh), or back to the plan page."""
    if request.htmx:
        plan = plan_get(viewer=request.viewer, public_id=plan.public_id)
        return _editor(request, plan, notice=notice, focus=focus)
    messages.success(request, notice)
    return redirect(f"{reverse('cases:plan', args=[plan.public_id])}#{anchor}")


def _frozen(request: HttpRequest, plan: Plan) -> HttpResponse | None:
    """An agreed version is never edited: say so on the plan page (the service refuses too)."""
    if plan.is_editable:
        return None
    messages.error(request, FROZEN)
    url = reverse("cases:plan", args=[plan.public_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _goal(plan: Plan, goal_id: int) -> PlanGoal:
    # Among this plan's own goals (prefetched): any other id is a 404.
    goal = next((g for g in plan.goals.all() if g.pk == goal_id), None)
    if goal is None:
        raise Http404
    return goal


def _item(plan: Plan, item_id: int) -> PlanItem:
    item = next((i for i in plan.items.all() if i.pk == item_id), None)
    if item is None:
        raise Http404
    return item


# --- Creating and reading ------------------------------------------------------------------


@require_POST
def plan_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """ "Make a plan" on the client page: an empty draft (version 1), then its editor."""
    case = case_get(viewer=request.viewer, public_id=public_id)
    try:
        plan = services.plan_create(viewer=request.viewer, case=case)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("cases:client", public_id=case.client.public_id)
    messages.success(request, _("A draft plan was started. Write the goals in the client's words."))
    return redirect("cases:plan", public_id=plan.public_id)


@require_GET
def plan_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A draft opens in the editor; any other version reads as it was agreed."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if plan.is_editable:
        return _editor(request, plan)
    return render(request, PAGE, _context(request, plan))


# --- The editor (drafts only) -----------------------------------------------------------------


@require_POST
def plan_update(request: HttpRequest, public_id: UUID) -> HttpResponse:
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            services.plan_update(viewer=request.viewer, plan=plan, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, plan, _("The plan was saved."), anchor="plan-words")
    return _editor(request, plan, plan_form=form)


@require_POST
def goal_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    form = GoalForm.for_goal(None, request.POST)
    if form.is_valid():
        try:
            services.plan_goal_save(
                viewer=request.viewer, plan=plan, goal=None, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request,
                plan,
                _("The goal was added."),
                anchor="plan-goals",
                focus="id_new_goal-text",
            )
    return _editor(request, plan, goal_form=form)


@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, public_id: UUID, goal_id: int) -> HttpResponse:
    """GET shows the goal as a form in the editor; POST saves it."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    goal = _goal(plan, goal_id)
    if request.method == "GET":
        return _editor(request, plan, editing_goal=goal)
    form = GoalForm.for_goal(goal, request.POST)
    if form.is_valid():
        try:
            services.plan_goal_save(
                viewer=request.viewer, plan=plan, goal=goal, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request,
                plan,
                _("The goal was saved."),
                anchor="plan-goals",
                focus=f"goal-{goal.pk}-edit",
            )
    return _editor(request, plan, editing_goal=goal, edit_form=form)


@require_POST
def goal_remove(request: HttpRequest, public_id: UUID, goal_id: int) -> HttpResponse:
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    goal = _goal(plan, goal_id)
    try:
        services.plan_goal_remove(viewer=request.viewer, plan=plan, goal=goal)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("cases:plan", public_id=plan.public_id)
    return _done(request, plan, _("The goal was removed."), anchor="plan-goals")


@require_POST
def item_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    form = ItemForm(request.POST, plan=plan)
    if form.is_valid():
        try:
            services.plan_item_save(
                viewer=request.viewer, plan=plan, item=None, fields=form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request,
                plan,
                _("The support item was added."),
                anchor="plan-items",
                focus="id_new_item-what",
            )
    return _editor(request, plan, item_form=form)


@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, public_id: UUID, item_id: int) -> HttpResponse:
    """GET shows the item as a form in its row; POST saves it."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    item = _item(plan, item_id)
    if request.method == "GET":
        return _editor(request, plan, editing_item=item)
    form = ItemForm(request.POST, plan=plan, item=item)
    if form.is_valid():
        try:
            services.plan_item_save(
                viewer=request.viewer, plan=plan, item=item, fields=form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request,
                plan,
                _("The support item was saved."),
                anchor="plan-items",
                focus=f"item-{item.pk}-edit",
            )
    return _editor(request, plan, editing_item=item, edit_form=form)


@require_POST
def item_remove(request: HttpRequest, public_id: UUID, item_id: int) -> HttpResponse:
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    item = _item(plan, item_id)
    try:
        services.plan_item_remove(viewer=request.viewer, plan=plan, item=item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("cases:plan", public_id=plan.public_id)
    return _done(request, plan, _("The support item was removed."), anchor="plan-items")


@require_POST
def items_reorder(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A move up / down button posts the whole new order; the focus stays on the moved item's
    button, so a keyboard user can press it again."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if refused := _frozen(request, plan):
        return refused
    form = ReorderForm(request.POST, plan=plan)
    error = _("The list of items has changed; reload the page.")
    if form.is_valid():
        order = form.cleaned_data["order"]
        try:
            services.plan_items_reorder(viewer=request.viewer, plan=plan, item_ids=order)
        except ValidationError as refused_order:
            error = " ".join(refused_order.messages)
        else:
            return _done(
                request,
                plan,
                _("The order was changed."),
                anchor="plan-items",
                focus=_moved_focus(request, order),
            )
    if request.htmx:
        return _editor(request, plan, notice=error)
    messages.error(request, error)
    return redirect(f"{reverse('cases:plan', args=[plan.public_id])}#plan-items")


def _moved_focus(request: HttpRequest, order: list[int]) -> str:
    """The id of the moved item's button to focus: the same direction while it can still go
    that way, else the other one (the first item has no "up")."""
    try:
        moved = int(request.POST.get("moved", ""))
    except ValueError:
        return ""
    if moved not in order:
        return ""
    direction = request.POST.get("direction")
    index = order.index(moved)
    if (direction == "up" and index == 0) or (direction == "down" and index == len(order) - 1):
        direction = "down" if direction == "up" else "up"
    return f"item-{moved}-{direction}" if direction in {"up", "down"} else ""


# --- Agreement, revision, review ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def plan_agree(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The client's agreement (本人の同意): date and how. The version is frozen from then on."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if not plan.is_editable:
        messages.info(request, _("The client's agreement to this version is already recorded."))
        return redirect("cases:plan", public_id=plan.public_id)
    form = AgreementForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.plan_record_agreement(
                viewer=request.viewer,
                plan=plan,
                agreed_on=form.cleaned_data["agreed_on"],
                method=form.cleaned_data["method"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The client's agreement was recorded. This version is now kept as it is."),
            )
            return redirect("cases:plan", public_id=plan.public_id)
    return render(request, "cases/plan_agree.html", _context(request, plan, form=form))


@require_http_methods(["GET", "POST"])
def plan_revise(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Start a revision (再プラン): ask why, then open the new draft in the editor."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if plan.is_editable:
        messages.info(request, _("This version is still a draft; change it directly."))
        return redirect("cases:plan", public_id=plan.public_id)
    form = ReviseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            revision = services.plan_revise(
                viewer=request.viewer, plan=plan, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Version %(version)s was started as a draft. Change what needs changing, "
                    "then record the client's agreement."
                )
                % {"version": revision.version},
            )
            return redirect("cases:plan", public_id=revision.public_id)
    return render(request, "cases/plan_revise.html", _context(request, plan, form=form))


@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A review (評価): for every goal how far it went and what came of it, and a note."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    if plan.status not in {PlanStatus.AGREED, PlanStatus.APPROVED}:
        messages.info(request, _("Only an agreed plan can be reviewed."))
        return redirect("cases:plan", public_id=plan.public_id)
    data = request.POST if request.method == "POST" else None
    form = ReviewForm(data)
    goal_forms = [GoalReviewForm(data, goal=goal) for goal in plan.goals.all()]
    # Every form is validated (no short-circuit), so each shows its own errors.
    if data is not None and all([form.is_valid(), *[f.is_valid() for f in goal_forms]]):
        try:
            services.plan_review_record(
                viewer=request.viewer,
                plan=plan,
                reviewed_on=form.cleaned_data["reviewed_on"],
                note=form.cleaned_data["note"],
                goal_results=[f.result() for f in goal_forms],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The review was recorded."))
            return redirect(f"{reverse('cases:plan', args=[plan.public_id])}#plan-reviews")
    context = _context(request, plan, form=form, goal_forms=goal_forms, invalid=data is not None)
    return render(request, "cases/plan_review.html", context)


# --- Print ------------------------------------------------------------------------------------


@require_GET
def plan_print(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The plan as the MHLW form プラン兼事業等利用申込書 lays it out, on A4, for the client to
    keep and sign and for the coordination meeting."""
    plan = plan_get(viewer=request.viewer, public_id=public_id)
    used = {item.program for item in plan.items.all() if item.program}
    context = {
        "plan": plan,
        "case": plan.case,
        "client": plan.case.client,
        "agency": request.viewer.agency,  # the plan's agency: the scope is the viewer's agency
        "item_rows": _item_rows(plan),
        "programs": [(label, value in used) for value, label in Program.choices],
    }
    return render(request, "cases/plan_print.html", context)
