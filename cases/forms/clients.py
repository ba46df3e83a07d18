from django import forms
from django.utils.translation import gettext_lazy as _

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


class FirstContactForm(forms.Form):
    on = forms.DateField(label=_("Date of the first direct contact"), widget=DateInput())
