from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.urls import reverse, reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.forms import (
    IntegerKeyChoiceField,
    IntegerKeyMultipleChoiceField,
    bound_number,
    integer_key_range,
    is_integer_key,
)

from .models import (
    Agency,
    AgencyFunction,
    AgencyKind,
    Municipality,
    MunicipalityKind,
    Network,
    Role,
)


def _picker_key(field, value) -> UUID | int | None:
    """The posted value as the picker field's key (a public id or a pk), None when it cannot be
    one: a pk past the column's range is never sent to the database."""
    if isinstance(value, field.queryset.model):
        return getattr(value, field.to_field_name or "pk")
    if field.to_field_name == "public_id":
        try:
            return UUID(str(value))
        except (TypeError, ValueError, AttributeError):
            return None
    key_range = integer_key_range(field.queryset.model, field.to_field_name)
    if key_range is None or not is_integer_key(value, key_range):
        return None
    return int(value)


class AgencyPickerWidget(forms.Widget):
    """A text box that searches the directory as one types (htmx, ``static/js/agency-picker.js``)
    and a hidden input with the chosen agency: no page renders the whole roster.

    ARIA combobox: the text box owns a listbox the search fills with options. The text box
    shows the chosen agency's name, or, when the form comes back with an error, what was typed.
    """

    template_name = "agencies/widgets/agency_picker.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.purpose = ""
        # Set by a picker over something other than the directory (e.g. the agency's clients):
        # its own search URL, answering ``q`` with options of the same shape.
        self.search_url = ""
        self.params: dict[str, str] = {}
        self.listbox_label = ""
        self.typed: str | None = None

    def value_from_datadict(self, data, files, name):
        # Kept for the re-rendered page: bad input keeps what was typed.
        self.typed = data.get(f"{name}_text")
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data

    def _chosen_label(self, value) -> str:
        if value in (None, ""):
            return ""
        field = self.choices.field
        key = field.to_field_name or "pk"
        value = _picker_key(field, value)
        if value is None:
            return ""
        agency = field.queryset.filter(**{key: value}).first()
        return field.label_from_instance(agency) if agency else ""

    def _search_url(self) -> str:
        return str(self.search_url) or reverse("agencies:pick", args=[self.purpose])

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        text = self.typed if self.typed is not None else self._chosen_label(value)
        params = {**self.params, "key": self.choices.field.to_field_name or "pk"}
        widget.update(
            text=text,
            search_url=f"{self._search_url()}?{urlencode(params)}",
            listbox_id=f"{widget['attrs'].get('id', name)}_listbox",
            listbox_label=self.listbox_label,
        )
        return context


class AgencyPickerField(IntegerKeyChoiceField):
    """An agency chosen with the picker. The form gives it the queryset it accepts; the picker's
    ``purpose`` (registered with ``agencies.selectors.pick_purpose_register``) must search the
    same queryset, so the list never offers what the server refuses."""

    widget = AgencyPickerWidget
    default_error_messages = {
        "invalid_choice": _("Choose the agency from the list."),
    }

    def __init__(self, *, purpose: str, queryset=None, **kwargs):
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset if queryset is not None else Agency.objects.none(), **kwargs)
        self.widget.purpose = purpose
        self.widget.listbox_label = self.label or ""

    def pick_params(self, **params) -> None:
        """What the search needs besides the purpose (e.g. the client), as URL parameters."""
        self.widget.params = {key: str(value) for key, value in params.items()}

    def label_from_instance(self, obj: Agency) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class AgencyPickerMultipleWidget(AgencyPickerWidget):
    """The picker for several agencies: each one chosen is a removable chip carrying a hidden
    input of the field's name, so the form posts the same list a multiple select would."""

    template_name = "agencies/widgets/agency_picker_multiple.html"
    allow_multiple_selected = True

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def value_omitted_from_data(self, data, files, name):
        # Nothing chosen posts nothing, as with a multiple select.
        return False

    def _chosen(self, values) -> list[tuple[str, str]]:
        """(value, label) of the chosen agencies, in the order chosen; one query, none if
        nothing is chosen. A value the field does not accept is left out (its error says so)."""
        field = self.choices.field
        key = field.to_field_name or "pk"
        wanted = [
            key_value
            for key_value in (_picker_key(field, value) for value in values or [])
            if key_value is not None
        ]
        if not wanted:
            return []
        found = {
            getattr(agency, key): agency
            for agency in field.queryset.filter(**{f"{key}__in": wanted})
        }
        return [
            (str(value), field.label_from_instance(found[value]))
            for value in dict.fromkeys(wanted)
            if value in found
        ]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["chosen"] = self._chosen(value)
        return context

    def _chosen_label(self, value) -> str:
        return ""  # the text box only searches: the chosen agencies are the chips


class AgencyPickerMultipleField(IntegerKeyMultipleChoiceField):
    """Several agencies chosen with the picker; as ``AgencyPickerField``, the ``purpose`` must
    search the queryset the form accepts."""

    widget = AgencyPickerMultipleWidget
    default_error_messages = {
        "invalid_choice": _("Choose the agency from the list."),
        "invalid_pk_value": _("Choose the agency from the list."),
    }

    def __init__(self, *, purpose: str, queryset=None, **kwargs):
        super().__init__(queryset if queryset is not None else Agency.objects.none(), **kwargs)
        self.widget.purpose = purpose
        self.widget.listbox_label = self.label or ""

    def label_from_instance(self, obj: Agency) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class MunicipalityChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: Municipality) -> str:
        return f"{obj}（{obj.code}）"


class MunicipalityMultipleChoiceField(IntegerKeyMultipleChoiceField):
    def label_from_instance(self, obj: Municipality) -> str:
        return f"{obj}（{obj.code}）"


# The bounds of the agency's own numbers (the model leaves them to the database's column).
AGENCY_NUMBER_BOUNDS = {
    "consent_validity_days": (1, 3650),  # up to ten years
    "referral_alert_business_days": (1, 120),  # as the first interview's limit
}


def _municipalities():
    return Municipality.objects.select_related("prefecture").order_by("code")


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or kana"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *AgencyKind.choices]
    )
    function = forms.ChoiceField(
        label=_("Function"),
        required=False,
        choices=[("", _("All functions")), *AgencyFunction.choices],
    )
    prefecture = IntegerKeyChoiceField(
        label=_("Prefecture"),
        required=False,
        empty_label=_("All prefectures"),
        queryset=Municipality.objects.filter(kind=MunicipalityKind.PREFECTURE).order_by("code"),
    )
    municipality = MunicipalityChoiceField(
        label=_("Municipality"),
        required=False,
        empty_label=_("The whole prefecture"),
        queryset=Municipality.objects.none(),
    )
    area_scope = forms.ChoiceField(
        label=_("Area means"),
        required=False,
        initial="serving",
        choices=[
            ("serving", _("the agency serves it")),
            ("located", _("the agency is set up by it")),
        ],
    )
    receives_referrals = forms.BooleanField(
        label=_("Only agencies that receive referrals through Tsunagu"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Choosing a prefecture reloads the municipality list in place (htmx).
        self.fields["prefecture"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("agencies:directory"),
                "hx-target": "#municipality-field",
                "hx-swap": "outerHTML",
                "hx-include": "this",
            }
        )
        prefecture_id = self.data.get("prefecture") if self.is_bound else None
        prefecture_key = integer_key_range(Municipality, None)
        if prefecture_id and prefecture_key and is_integer_key(prefecture_id, prefecture_key):
            self.fields["municipality"].queryset = _municipalities().filter(
                prefecture_id=int(prefecture_id)
            )

    def area(self) -> Municipality | None:
        return self.cleaned_data.get("municipality") or self.cleaned_data.get("prefecture")


class AgencyForm(forms.ModelForm):
    municipality = MunicipalityChoiceField(
        label=_("Implementing municipality"), queryset=_municipalities(), required=False
    )
    service_area = MunicipalityMultipleChoiceField(
        label=_("Service area"),
        queryset=_municipalities(),
        required=False,
        help_text=_("Hold Ctrl (or ⌘) to choose several. A prefecture covers all of it."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    functions = forms.MultipleChoiceField(
        label=_("Functions and programs"),
        choices=AgencyFunction.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Agency
        fields = [
            "name",
            "name_kana",
            "kind",
            "municipality",
            "operation",
            "contractor_name",
            "service_area",
            "postal_code",
            "address",
            "phone",
            "email",
            "opening_hours",
            "public_note",
            "receives_referrals",
            "consent_validity_days",
            "referral_alert_business_days",
            "require_two_factor",
            "active_from",
            "active_until",
        ]
        widgets = {
            "active_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "active_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "public_note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (lowest, highest) in AGENCY_NUMBER_BOUNDS.items():
            bound_number(self.fields[name], lowest, highest)
        if self.instance.pk:
            self.fields["functions"].initial = [
                entry.function for entry in self.instance.function_entries.all()
            ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("operation") == "contracted" and not cleaned.get("contractor_name"):
            self.add_error("contractor_name", _("Enter the contractor running the agency."))
        active_from, active_until = cleaned.get("active_from"), cleaned.get("active_until")
        if active_from and active_until and active_until < active_from:
            self.add_error("active_until", _("The end date is before the start date."))
        return cleaned

    def service_fields(self) -> dict:
        return {
            field: self.cleaned_data[field]
            for field in self.Meta.fields
            if field != "service_area" and field in self.cleaned_data
        }


class StaffInviteForm(forms.Form):
    username = forms.SlugField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits, - and _. An existing user name adds that person."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=100)
    full_name_kana = forms.CharField(label=_("Full name (kana)"), max_length=100, required=False)
    email = forms.EmailField(
        label=_("Email"), help_text=_("The link to set a password is sent here.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_roster_admin = forms.BooleanField(label=_("Roster administrator"), required=False)


class StaffEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_roster_admin = forms.BooleanField(label=_("Roster administrator"), required=False)


class SupporterProfileForm(forms.Form):
    is_peer_supporter = forms.BooleanField(label=_("Peer supporter"), required=False)
    dispatching_municipality = MunicipalityChoiceField(
        label=_("Dispatching municipality"), queryset=_municipalities(), required=False
    )
    training_completed_on = forms.DateField(
        label=_("Training completed on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class MunicipalityCorrectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MunicipalityKind.choices)
    has_welfare_office = forms.BooleanField(label=_("Has a welfare office"), required=False)


class NetworkForm(forms.ModelForm):
    municipality = MunicipalityChoiceField(label=_("Municipality"), queryset=_municipalities())
    # Pickers over every agency, closed ones too (the "network-agency" purpose, system admins);
    # each posts the agency's pk, as the selects they replaced did.
    coordinating_agency = AgencyPickerField(
        label=capfirst(_("coordinating agency")),
        purpose="network-agency",
        queryset=Agency.objects.all(),
        required=False,
    )
    members = AgencyPickerMultipleField(
        label=_("Member agencies"),
        purpose="network-agency",
        queryset=Agency.objects.all(),
        required=False,
    )

    class Meta:
        model = Network
        fields = ["name", "kind", "municipality", "coordinating_agency", "members"]

    def service_fields(self) -> dict:
        return {
            field: self.cleaned_data.get(field)
            for field in ("name", "kind", "municipality", "coordinating_agency")
        }
