from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from agencies.models import Agency, Role
from core.forms import IntegerKeyChoiceField, IntegerKeyMultipleChoiceField

from ..models import (
    STAGE_ORDER,
    Case,
    Outcome,
    Stage,
    Topic,
    WithdrawalTrigger,
)
from .clients import DateInput


def agency_workers(agency: Agency):
    return User.objects.filter(
        memberships__agency=agency,
        memberships__is_active=True,
        memberships__role__in=[Role.CASEWORKER, Role.SUPERVISOR],
    ).order_by("full_name_kana", "full_name")


class WorkerChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name


class WorkersChoiceField(IntegerKeyMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name


class CaseForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        label=_("Topics"), choices=Topic.choices, widget=forms.CheckboxSelectMultiple
    )
    main_topic = forms.ChoiceField(label=_("Main topic"), choices=Topic.choices)
    withdrawal_triggers = forms.MultipleChoiceField(
        label=_("What started the withdrawal"),
        choices=WithdrawalTrigger.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    primary_worker = WorkerChoiceField(label=_("Primary caseworker"), queryset=User.objects.none())
    co_workers = WorkersChoiceField(
        label=_("Co-workers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Case
        fields = [
            "opened_on",
            "origin",
            "support_type",
            "withdrawal_duration",
            "going_out",
        ]
        widgets = {"opened_on": DateInput()}

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        workers = agency_workers(agency)
        self.fields["primary_worker"].queryset = workers
        self.fields["co_workers"].queryset = workers
        if self.instance.pk:
            topics = list(self.instance.topics.all())
            self.initial["topics"] = [t.topic for t in topics]
            self.initial["main_topic"] = next((t.topic for t in topics if t.is_main), None)
            self.initial["withdrawal_triggers"] = self.instance.withdrawal_triggers
            self.initial["co_workers"] = list(self.instance.co_workers.all())

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        fields = {field: data[field] for field in self.Meta.fields}
        fields["withdrawal_triggers"] = data["withdrawal_triggers"]
        return {
            "fields": fields,
            "topics": data["topics"],
            "main_topic": data["main_topic"],
            "primary_worker": data["primary_worker"],
            "co_workers": list(data["co_workers"]),
        }


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(
        label=_("Move to"),
        choices=[(s.value, s.label) for s in [*STAGE_ORDER, Stage.SUSPENDED]],
    )
    moved_on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class CaseCloseForm(forms.Form):
    moved_on = forms.DateField(label=_("Closed on"), initial=timezone.localdate, widget=DateInput())
    outcomes = forms.MultipleChoiceField(
        label=_("Outcomes"), choices=Outcome.choices, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("Reason for closing"), widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Closure note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CaseReopenForm(forms.Form):
    to_stage = forms.ChoiceField(
        label=_("Reopen at"), choices=[(s.value, s.label) for s in STAGE_ORDER]
    )
    moved_on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
