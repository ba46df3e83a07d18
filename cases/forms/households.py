"""The household (世帯) and its members: what a caseworker types, checked before the services."""

import unicodedata
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.permissions import Viewer
from core.japanese import validate_postal_code

from ..models import Client, HouseholdMember, Relationship
from ..selectors import client_scope
from .clients import ClientPickerField

# A family often knows an age, not a year: a stated age is at most a year off the year's one.
AGE_TOLERANCE = 1
OLDEST_AGE = 120


# Dashes an IME gives for "-" (NFKC already turns the full-width hyphen-minus into "-").
_DASHES = str.maketrans(dict.fromkeys("ー‐‑–—−", "-"))


class PostalCodeField(forms.CharField):
    """〒１２３－４５６７ typed on a Japanese keyboard is 123-4567."""

    def to_python(self, value: Any) -> str:
        value = unicodedata.normalize("NFKC", super().to_python(value))
        value = value.removeprefix("〒").strip()
        return value.translate(_DASHES)


class HouseholdForm(forms.Form):
    postal_code = PostalCodeField(
        label=_("Postal code"),
        required=False,
        validators=[validate_postal_code],
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    note = forms.CharField(
        label=_("Note on the household"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. who manages the household's money, the state of the home."),
    )

    def clean_postal_code(self) -> str:
        code = self.cleaned_data["postal_code"]
        return f"{code[:3]}-{code[3:]}" if len(code) == 7 else code


class MemberForm(forms.Form):
    """A member of the client's household.

    "Also a client here" is the client picker: the agency's clients are searched as one types
    (the household's members left out), never listed; any other client of the agency is
    accepted.
    """

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    relationship = forms.ChoiceField(
        label=_("Relationship to the client"),
        choices=[("", "---------")]
        + [(value, label) for value, label in Relationship.choices if value != Relationship.SELF],
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        required=False,
        min_value=1900,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    age = forms.IntegerField(
        label=_("Age"),
        required=False,
        min_value=0,
        max_value=OLDEST_AGE,
        help_text=_("When only the age is known; the year of birth is worked out from it."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    lives_together = forms.BooleanField(label=_("Lives together"), required=False, initial=True)
    in_withdrawal = forms.BooleanField(
        label=_("In a hikikomori state"),
        required=False,
        help_text=_("For members who are not clients here; a client's own case says it."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    member_client = ClientPickerField(
        label=_("Also a client here"),
        required=False,
        help_text=_("Only clients of this agency. Leave it empty if the member is not one."),
    )

    def __init__(
        self,
        *args: Any,
        viewer: Viewer,
        client: Client,
        member: HouseholdMember | None = None,
        taken_clients: Sequence[Client] = (),
        **kwargs: Any,
    ) -> None:
        if member is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": member.name,
                "relationship": member.relationship,
                "birth_year": member.birth_year,
                "lives_together": member.lives_together,
                "in_withdrawal": member.in_withdrawal,
                "note": member.note,
                "member_client": member.client.public_id if member.client_id else None,
            }
        super().__init__(*args, **kwargs)
        self.client = client
        self.member = member
        self.taken_client_ids = frozenset(taken.pk for taken in taken_clients)
        this_year = timezone.localdate().year
        self.fields["birth_year"].validators.append(MaxValueValidator(this_year))
        self.fields["birth_year"].widget.attrs["max"] = this_year
        self.is_self = member is not None and member.relationship == Relationship.SELF
        if self.is_self:
            # The client's own row: always the client, always "本人", and the household is
            # where they live.
            for name in ("relationship", "member_client", "lives_together"):
                del self.fields[name]
            return
        field = self.fields["member_client"]
        field.queryset = client_scope(viewer=viewer).exclude(pk=client.pk)
        # The list leaves out the household's members (posted anyway, the error says why).
        field.pick_excluding([client, *taken_clients])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        birth_year, age = cleaned.get("birth_year"), cleaned.get("age")
        this_year = timezone.localdate().year
        if birth_year and age is not None and abs(this_year - birth_year - age) > AGE_TOLERANCE:
            self.add_error(
                "age",
                _("The age does not match the year of birth. Enter one of them."),
            )
        member_client = cleaned.get("member_client")
        if member_client is not None:
            if member_client.pk in self.taken_client_ids:
                self.add_error(
                    "member_client", _("This client is already a member of the household.")
                )
            elif not birth_year and age is None and member_client.birth_date:
                cleaned["birth_year"] = member_client.birth_date.year
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        names = ["name", "birth_year", "age", "in_withdrawal", "note"]
        if not self.is_self:
            names += ["relationship", "lives_together"]
        return {name: self.cleaned_data[name] for name in names}

    def chosen_client(self) -> Client | None:
        if self.is_self:
            return self.member.client
        return self.cleaned_data.get("member_client")
