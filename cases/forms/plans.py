"""Forms of the support plan (プラン): the editor's pieces, the agreement, the revision and the
review (評価).

The client's words (the plan's ``client_words`` and each goal) are kept exactly as typed:
those fields do not strip, so a leading full-width space or a blank line the person wanted
stays (Python's ``str.strip`` would drop U+3000 too).
"""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.forms import AgencyPickerField
from agencies.models import Agency

from ..models import Achievement, AgreementMethod, Outcome, Plan, PlanGoal, PlanItem, Program
from ..selectors import plan_agencies
from .clients import DateInput


class PlanForm(forms.Form):
    """The plan's own fields: the client's words and the review date."""

    client_words = forms.CharField(
        label=_("The client's own words"),
        required=False,
        strip=False,
        help_text=_("What the person wants, kept verbatim."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    review_on = forms.DateField(label=_("Review date"), required=False, widget=DateInput())

    @classmethod
    def for_plan(cls, plan: Plan, data=None) -> "PlanForm":
        return cls(data, initial={"client_words": plan.client_words, "review_on": plan.review_on})


class GoalForm(forms.Form):
    text = forms.CharField(
        label=_("Goal"),
        strip=False,
        help_text=_("In the client's own words."),
        error_messages={"required": _("Write the goal in the client's words.")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @classmethod
    def for_goal(cls, goal: PlanGoal | None, data=None) -> "GoalForm":
        # Ids carry the goal: the add form and an edit form may be on the page together.
        prefix = f"goal{goal.pk}" if goal else "new_goal"
        initial = {"text": goal.text} if goal else None
        return cls(data, prefix=prefix, initial=initial)


class AgencyChoiceField(AgencyPickerField):
    """The picker ("plan-agency" purpose), naming this agency as such. Posts the pk."""

    def __init__(self, *args, own_agency_id: int | None = None, **kwargs):
        self.own_agency_id = own_agency_id
        super().__init__(*args, purpose="plan-agency", **kwargs)

    def label_from_instance(self, obj: Agency) -> str:
        # Outside the f-string: makemessages does not read inside one.
        note = _("this agency") if obj.pk == self.own_agency_id else obj.get_kind_display()
        return f"{obj.name}（{note}）"


class ItemForm(forms.Form):
    """A support item: what, by which agency (this one or a partner), which program, how often,
    who, and optionally for which goal."""

    what = forms.CharField(
        label=_("Support content"),
        max_length=300,
        help_text=_("e.g. weekly interview, job-readiness seminar, watching over and listening"),
    )
    agency = AgencyChoiceField(label=_("By agency"))
    program = forms.ChoiceField(
        label=_("Program"), required=False, choices=[("", "—"), *Program.choices]
    )
    frequency = forms.CharField(
        label=_("How often"),
        max_length=100,
        required=False,
        help_text=_("e.g. once a week, twice a month"),
    )
    responsible = forms.CharField(label=_("Responsible person"), max_length=100, required=False)
    goal = forms.TypedChoiceField(label=_("For goal"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, plan: Plan, item: PlanItem | None = None, **kwargs):
        prefix = f"item{item.pk}" if item else "new_item"
        initial = kwargs.pop("initial", None) or {}
        if item is not None:
            initial = {
                "what": item.what,
                "agency": item.agency_id,
                "program": item.program,
                "frequency": item.frequency,
                "responsible": item.responsible,
                "goal": item.goal_id,
                **initial,
            }
        else:
            initial = {"agency": plan.case.agency_id, **initial}
        super().__init__(data, prefix=prefix, initial=initial, **kwargs)
        own = plan.case.agency_id
        self.fields["agency"].own_agency_id = own
        self.fields["agency"].queryset = plan_agencies(
            agency_id=own, current_id=item.agency_id if item else None
        )
        # The goals come with the plan (prefetched): no query of their own.
        self.goals = {goal.pk: goal for goal in plan.goals.all()}
        self.fields["goal"].choices = [("", _("(none)"))] + [
            (goal.pk, f"{number}. {_short(goal.text)}")
            for number, goal in enumerate(self.goals.values(), start=1)
        ]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "what": data["what"],
            "agency": data["agency"],
            "program": data["program"],
            "frequency": data["frequency"],
            "responsible": data["responsible"],
            "goal": self.goals.get(data["goal"]) if data["goal"] else None,
        }


def _short(text: str, length: int = 30) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


class ReorderForm(forms.Form):
    """The new order of the items, first to last (what a move up / down button posts)."""

    order = forms.TypedMultipleChoiceField(coerce=int, widget=forms.MultipleHiddenInput)

    def __init__(self, data=None, *, plan: Plan, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["order"].choices = [(item.pk, item.pk) for item in plan.items.all()]


class AgreementForm(forms.Form):
    agreed_on = forms.DateField(
        label=_("Agreed on"), initial=timezone.localdate, widget=DateInput()
    )
    method = forms.ChoiceField(
        label=_("How the client agreed"),
        choices=AgreementMethod.choices,
        initial=AgreementMethod.SIGNED,
        widget=forms.RadioSelect,
    )


class ReviseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the plan is revised"),
        help_text=_("e.g. the goal was reached, the situation changed, the person wishes so."),
        error_messages={"required": _("Write why the plan is revised.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(
        label=_("Reviewed on"), initial=timezone.localdate, widget=DateInput()
    )
    note = forms.CharField(
        label=_("Overall note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_reviewed_on(self):
        day = self.cleaned_data["reviewed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return day


class GoalReviewForm(forms.Form):
    """How far one goal went, and what came of it: outcomes are not only work."""

    achievement = forms.ChoiceField(
        label=_("How far"),
        choices=Achievement.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how far the goal went.")},
    )
    outcomes = forms.MultipleChoiceField(
        label=_("What came of it"),
        choices=Outcome.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, goal: PlanGoal, **kwargs):
        super().__init__(data, prefix=f"goal{goal.pk}", **kwargs)
        self.goal = goal

    def result(self) -> dict[str, Any]:
        return {"goal": self.goal, **self.cleaned_data}
