from collections.abc import Iterable

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agencies.forms import AgencyPickerWidget

from ..models import Client, ContactPreference


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ClientForm(forms.ModelForm):
    contact_preferences = forms.MultipleChoiceField(
        label=_("How to contact"),
        choices=ContactPreference.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Set by the page that showed the possible duplicates and was told "another person".
    duplicate_confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Client
        fields = [
            "full_name",
            "full_name_kana",
            "birth_date",
            "gender",
            "postal_code",
            "address",
            "phone",
            "phone_alt",
            "email",
            "contact_preferences",
            "contact_note",
            "wishes",
        ]
        widgets = {
            "birth_date": DateInput(),
            "contact_note": forms.Textarea(attrs={"rows": 2}),
            "wishes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name_kana"].help_text = _("Hiragana or katakana, any width.")

    def service_fields(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.Meta.fields}


class ClientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or reading"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )
    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())


class AccessLogFilterForm(forms.Form):
    """The filter of "who looked at this client": a person's or an agency's name, and days."""

    who = forms.CharField(label=_("Person or agency"), required=False, max_length=100)
    since = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=DateInput()
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "Until"), required=False, widget=DateInput()
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end is before the start."))
        return data

    def filters(self) -> dict:
        """What the selector narrows by: nothing while the form is not valid."""
        if not self.is_valid():
            return {}
        return {
            "who": self.cleaned_data["who"].strip(),
            "since": self.cleaned_data["since"],
            "until": self.cleaned_data["until"],
        }


def client_pick_label(client: Client) -> str:
    """What people know a client by (never an id): name, reading, date of birth."""
    born = f"、{client.birth_date:%Y-%m-%d}" if client.birth_date else ""
    return f"{client.full_name}（{client.full_name_kana}{born}）"


class ClientPickerWidget(AgencyPickerWidget):
    """The agency picker's combobox, its search POSTed: what is typed is part of a person's
    name, which must stay out of the URL (and so out of the server's access log). Only what
    was typed is sent (``q``, ``static/js/agency-picker.js``), not the form around it."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["search_method"] = "post"
        return context


class ClientPickerField(forms.ModelChoiceField):
    """A client of the viewer's agency chosen with the picker: the agency picker's combobox
    (``ClientPickerWidget``, ``static/js/agency-picker.js``) searching ``cases:client_pick``,
    so no page renders the agency's clients. The form gives it the queryset it accepts (within
    ``client_scope``, which the search covers) and the server validates the choice against it."""

    widget = ClientPickerWidget
    default_error_messages = {
        "invalid_choice": _("Choose the person from the list."),
    }

    def __init__(self, *, queryset=None, **kwargs):
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(queryset if queryset is not None else Client.objects.none(), **kwargs)
        self.widget.search_url = reverse_lazy("cases:client_pick")
        self.widget.listbox_label = self.label or ""

    def pick_excluding(self, clients: Iterable[Client]) -> None:
        """Leave these out of the list (e.g. the household's members); the form still says why
        if one is posted."""
        ids = dict.fromkeys(str(client.public_id) for client in clients)
        self.widget.params = {"exclude": ",".join(ids)}

    def label_from_instance(self, obj: Client) -> str:
        return client_pick_label(obj)


class FirstContactForm(forms.Form):
    on = forms.DateField(label=_("Date of the first direct contact"), widget=DateInput())
