"""Forms of the 支援調整会議: the meeting record, and one case discussed at it."""

from uuid import UUID

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from agencies.forms import AgencyPickerMultipleField
from agencies.models import Agency
from agencies.permissions import Viewer
from core.forms import IntegerKeyChoiceField, IntegerKeyMultipleChoiceField

from ..models import Case, Decision, Meeting, Plan, Stage
from ..selectors import case_scope, partner_agencies
from .clients import ClientPickerField, DateInput, client_pick_label

MEETING_FIELDS = ("held_on", "start_time", "place", "other_participants", "minutes")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ParticipantsChoiceField(IntegerKeyMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name or obj.username


def host_staff(agency: Agency) -> QuerySet[User]:
    """Everyone on the hosting agency's roster today, whatever their role (a supporter may
    attend too)."""
    return (
        User.objects.filter(memberships__agency=agency, memberships__is_active=True)
        .distinct()
        .order_by("full_name_kana", "full_name", "id")
    )


class MeetingForm(forms.ModelForm):
    # The picker ("meeting-participant" purpose): each chosen agency posts its pk, as the
    # multiple select it replaced did.
    participant_agencies = AgencyPickerMultipleField(
        label=_("Participating agencies"),
        purpose="meeting-participant",
        required=False,
        help_text=_("Besides this agency, which always takes part."),
    )
    participant_users = ParticipantsChoiceField(
        label=_("Participants from this agency"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Meeting
        fields = list(MEETING_FIELDS)
        # "minutes" alone is already the consultation's length (所要時間（分）) in the catalogue.
        labels = {"minutes": pgettext_lazy("meeting record", "Minutes")}
        widgets = {
            "held_on": DateInput(),
            "start_time": TimeInput(),
            "minutes": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant_agencies"].queryset = partner_agencies(agency_id=agency.pk)
        self.fields["participant_users"].queryset = host_staff(agency)
        # The field order on the page: when and where, who, then what was said.
        self.order_fields(
            [
                "held_on",
                "start_time",
                "place",
                "participant_agencies",
                "participant_users",
                "other_participants",
                "minutes",
            ]
        )
        if self.instance.pk:
            self.initial["participant_agencies"] = [
                a for a in self.instance.participant_agencies.all() if a.pk != agency.pk
            ]
            self.initial["participant_users"] = list(self.instance.participant_users.all())

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "fields": {field: data[field] for field in MEETING_FIELDS},
            "participant_agencies": list(data["participant_agencies"]),
            "participant_users": list(data["participant_users"]),
        }


class OpenCasePickerField(ClientPickerField):
    """An open case of the agency, chosen by its client with the client picker: the search
    (``cases:client_pick?open_case=1``) offers only clients with an open case, each with that
    case's public id, so no page renders the agency's cases (20,000 in a large city). The
    server validates the choice against ``open_cases``."""

    default_error_messages = {
        "invalid_choice": _(
            "Choose the person from the list: only a client with an open case at your agency "
            "can be discussed."
        ),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.params = {"open_case": "1"}

    def label_from_instance(self, obj: Case) -> str:
        return client_pick_label(obj.client)


class PlanChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return _("Version %(version)s — %(status)s") % {
            "version": obj.version,
            "status": obj.get_status_display(),
        }


def open_cases(viewer: Viewer) -> QuerySet[Case]:
    """The agency's open cases, by the client's reading: what a meeting may discuss."""
    return (
        case_scope(viewer=viewer)
        .exclude(stage=Stage.CLOSED)
        .select_related("client")
        .order_by("client__kana_key", "id")
    )


def _chosen(cases: QuerySet[Case], value: str | None) -> Case | None:
    if not value:
        return None
    try:
        return cases.filter(public_id=UUID(str(value))).first()
    except ValueError:
        return None


class MeetingCaseForm(forms.Form):
    """A case discussed at the meeting. The plan list follows the chosen case: the page asks
    for it again (htmx) when the case changes, and the form accepts only that case's plans."""

    case = OpenCasePickerField(label=_("Case discussed"), queryset=Case.objects.none())
    plan = PlanChoiceField(
        label=_("Plan version discussed"),
        queryset=Plan.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("No plan discussed"),
    )
    decisions = forms.MultipleChoiceField(
        label=_("Decisions"),
        choices=Decision.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    next_review_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DateInput(),
        help_text=_("When the plan is approved, this becomes its review date."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, viewer: Viewer, case_id: str | None = None, **kwargs):
        """``case_id``: the public id of the case chosen so far (a GET parameter); a bound
        form reads it from its data."""
        super().__init__(*args, **kwargs)
        cases = open_cases(viewer)
        self.fields["case"].queryset = cases
        case = _chosen(cases, self.data.get("case") if self.is_bound else case_id)
        self.case = case
        if case is not None:
            self.initial.setdefault("case", case.public_id)
            # Newest first, each with its status: the version agreed to is the one to approve.
            # (The case came through case_scope, so its plans are the viewer's to see.)
            self.fields["plan"].queryset = Plan.objects.filter(case=case).order_by("-version")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "case": data["case"],
            "plan": data["plan"],
            "decisions": data["decisions"],
            "next_review_on": data["next_review_on"],
            "note": data["note"],
        }
