"""Forms of the supporters' work: a caseworker dispatching a supporter to a client, and the
supporter's visit record (訪問記録), filled in on a phone at the door: few fields, every
default set, the outcome one tap on a large button."""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership, Role
from core.forms import IntegerKeyChoiceField

from ..models import VisitOutcome
from .clients import DateInput


def agency_supporters(agency: Agency) -> QuerySet[Membership]:
    """The agency's active supporters, the people a caseworker may dispatch."""
    return (
        Membership.objects.filter(agency=agency, role=Role.SUPPORTER, is_active=True)
        .select_related("user")
        .order_by("user__full_name_kana", "user__full_name", "id")
    )


class SupporterChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.full_name or obj.user.username


class SupporterAssignForm(forms.Form):
    supporter = SupporterChoiceField(
        label=_("Supporter"), queryset=Membership.objects.none(), to_field_name="public_id"
    )
    approach_note = forms.CharField(
        label=_("How to approach"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What the supporter should know before visiting, "
            "e.g. ring twice, speak to the mother first."
        ),
    )

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supporter"].queryset = agency_supporters(agency)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateInput())
    outcome = forms.ChoiceField(
        label=_("Result"),
        choices=VisitOutcome.choices,
        # Drawn as four large toggle buttons (Bootstrap's btn-check), see my_household.html.
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    heard = forms.CharField(
        label=_("What you heard"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    is_urgent = forms.BooleanField(label=_("Something is urgent"), required=False)
    urgent_note = forms.CharField(
        label=_("What is urgent"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The caseworker sees it on their dashboard at once."),
    )

    def clean(self):
        data = super().clean()
        if data.get("is_urgent") and not data.get("urgent_note", "").strip():
            self.add_error("urgent_note", _("Write what is urgent."))
        if not data.get("is_urgent"):
            data["urgent_note"] = ""  # typed, then unticked: not urgent after all
        return data

    def service_fields(self) -> dict:
        return dict(self.cleaned_data)
