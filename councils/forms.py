"""Forms of the 支援会議. Each only cleans what was typed; the service decides and refuses."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from agencies.forms import AgencyPickerField
from agencies.models import Municipality
from agencies.permissions import Viewer
from cases.forms.clients import ClientPickerField, DateInput
from cases.selectors import client_scope
from consent.models import DataCategory
from core.forms import IntegerKeyChoiceField

from .models import LegalBasis, SupportCouncil
from .selectors import chair_agencies, member_candidates


class MunicipalityChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: Municipality) -> str:
        return f"{obj}（{obj.code}）"


class CouncilCreateForm(forms.Form):
    municipality = MunicipalityChoiceField(
        label=_("Municipality that sets it up"),
        queryset=Municipality.objects.select_related("prefecture").order_by("code"),
    )
    name = forms.CharField(label=_("Name of the council"), max_length=200)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    # The picker ("council-chair" purpose); posts the agency's pk, as the select did.
    chair_agency = AgencyPickerField(
        label=_("Secretariat"),
        purpose="council-chair",
        help_text=_("The agency that runs the council: members, sessions and minutes."),
    )
    confidentiality_note = forms.CharField(
        label=_("Confidentiality"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "How members are bound to confidentiality, e.g. the article of the law and the "
            "municipality's rules."
        ),
    )
    established_on = forms.DateField(label=_("Set up on"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the class: "active" means today, not the day the server started.
        self.fields["chair_agency"].queryset = chair_agencies()


class CouncilEditForm(forms.Form):
    name = forms.CharField(label=_("Name of the council"), max_length=200)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    confidentiality_note = forms.CharField(
        label=_("Confidentiality"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CouncilEndForm(forms.Form):
    ended_on = forms.DateField(
        label=_("Ended on"),
        widget=DateInput(),
        help_text=_("From this day the council shares nothing more."),
    )


class MemberAddForm(forms.Form):
    # The picker ("council-member" purpose, given the council); posts the agency's pk.
    agency = AgencyPickerField(label=_("Agency"), purpose="council-member")
    joined_on = forms.DateField(label=_("Member from"), widget=DateInput())

    def __init__(self, *args, council: SupportCouncil, member_ids: frozenset[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = member_candidates(member_ids=member_ids)
        self.fields["agency"].pick_params(council=council.public_id)


class SessionForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    sharing_from = forms.DateField(
        label=_("Shared from"),
        required=False,
        widget=DateInput(),
    )
    sharing_until = forms.DateField(
        label=_("Shared until"),
        required=False,
        widget=DateInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The defaults and the limits are settings: say them in the language of the request.
        self.fields["sharing_from"].help_text = gettext(
            "Empty: %(days)s days before the session. At most %(max)s days before it."
        ) % {
            "days": settings.COUNCIL_SHARING_DAYS_BEFORE,
            "max": settings.COUNCIL_SHARING_MAX_DAYS_BEFORE,
        }
        self.fields["sharing_until"].help_text = gettext(
            "Empty: %(days)s days after the session. At most %(max)s days after it. "
            "After this day nothing is shown."
        ) % {
            "days": settings.COUNCIL_SHARING_DAYS_AFTER,
            "max": settings.COUNCIL_SHARING_MAX_DAYS_AFTER,
        }

    def service_kwargs(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.fields}


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        # "Minutes" alone is the consultation's length (所要時間（分）) in the catalogue.
        label=pgettext_lazy("meeting record", "Minutes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Shown only to the member agencies' caseworkers and supervisors, between the "
            "session's sharing dates."
        ),
    )


class AgendaItemForm(forms.Form):
    # The client picker (cases:client_pick searches the agency's clients, as this queryset).
    client = ClientPickerField(label=_("Person (a client of your agency)"))
    categories = forms.MultipleChoiceField(
        label=_("Information shared with the members"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only what the council needs to discuss the person."),
    )
    reason = forms.CharField(
        label=_("Why the council should discuss this person"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the agency's own clients: the holder alone brings a person to the council.
        self.fields["client"].queryset = client_scope(viewer=viewer)

    def service_kwargs(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.fields}
