"""Forms of the referral pages: the referral itself (つなぎ / 紹介のみ / 共同支援), the answers of
the receiving agency, the message thread and the record lists' filter.

The referral form offers only the categories a valid consent to the chosen recipient covers
(``covered``, from the consent gate); the others are shown disabled with a way to record the
missing consent. The person's wishes are kept exactly as typed (no stripping).
"""

from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership
from cases.forms.clients import DateInput
from consent.models import Consent, DataCategory

from .models import NEEDS_CONSENT, ReferralType, Urgency


@dataclass(frozen=True)
class CategoryRow:
    """One checkbox of the categories fieldset."""

    value: str
    label: str
    consent: Consent | None  # the valid consent that covers it; None: no consent
    checked: bool

    @property
    def consented(self) -> bool:
        return self.consent is not None


def category_rows(covered: dict[str, Consent], checked: list[str]) -> list[CategoryRow]:
    return [
        CategoryRow(value, label, covered.get(value), value in checked and value in covered)
        for value, label in DataCategory.choices
    ]


class ReferralForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Type"),
        choices=ReferralType.choices,
        initial=ReferralType.TSUNAGI,
        widget=forms.RadioSelect,
        help_text=_(
            "Introduction only: the person is given the other agency's contact and nothing "
            "about them is sent."
        ),
    )
    to_agency = forms.ChoiceField(label=_("To agency"))
    reason = forms.CharField(
        label=_("Reason for the referral"), widget=forms.Textarea(attrs={"rows": 3})
    )
    client_wishes = forms.CharField(
        label=_("The person's wishes"),
        strip=False,
        help_text=_("In the person's own words, as they said it."),
        error_messages={"required": _("Write the person's wishes in their own words.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    categories = forms.MultipleChoiceField(
        label=_("Information to send"),
        choices=DataCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Message to the receiving agency"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        recipients: list[Agency],
        covered_for=None,
        recording_consent: bool = False,
        **kwargs,
    ):
        """``recipients`` are the agencies to choose from; ``covered_for(agency)`` answers
        {category: consent} for the chosen one. ``recording_consent``: the form is saved as a
        draft on the way to recording a missing consent, so it may name categories the
        consent does not cover yet."""
        super().__init__(*args, **kwargs)
        self.recipients = {str(agency.public_id): agency for agency in recipients}
        self.fields["to_agency"].choices = [("", _("Choose the agency"))] + [
            (key, f"{agency.name}（{agency.get_kind_display()}）")
            for key, agency in self.recipients.items()
        ]
        self.covered_for = covered_for or (lambda agency: {})
        self.recording_consent = recording_consent
        self._covered: dict[str, Consent] | None = None

    def _raw(self, name: str):
        if self.is_bound:
            return self.data.get(name)
        return self.initial.get(name, self.fields[name].initial)

    @property
    def chosen_recipient(self) -> Agency | None:
        return self.recipients.get(str(self._raw("to_agency") or ""))

    @property
    def chosen_type(self) -> str:
        return str(self._raw("type") or ReferralType.TSUNAGI)

    @property
    def covered(self) -> dict[str, Consent]:
        """{category: consent} valid today for the chosen recipient (asked once)."""
        if self._covered is None:
            recipient = self.chosen_recipient
            self._covered = self.covered_for(recipient) if recipient else {}
        return self._covered

    def category_rows(self) -> list[CategoryRow]:
        if self.is_bound:
            checked = self.data.getlist("categories")
        else:
            checked = self.initial.get("categories", [])
        return category_rows(self.covered, checked)

    @property
    def needs_consent(self) -> bool:
        return self.chosen_type in NEEDS_CONSENT

    def clean_to_agency(self) -> Agency:
        agency = self.recipients.get(self.cleaned_data["to_agency"])
        if agency is None:
            raise forms.ValidationError(_("Choose the agency from the list."))
        return agency

    def clean(self):
        data = super().clean()
        if data.get("type") not in NEEDS_CONSENT:
            data["categories"] = []  # an introduction sends nothing
        elif not self.recording_consent and "to_agency" in data:
            # Offer only what a valid consent covers: a stale page may post more.
            missing = [c for c in data.get("categories", []) if c not in self.covered]
            if missing:
                labels = dict(DataCategory.choices)
                self.add_error(
                    "categories",
                    _("No valid consent for: %(categories)s. Record the consent first.")
                    % {"categories": "、".join(str(labels[c]) for c in missing)},
                )
        return data

    def service_fields(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in (
                "type",
                "to_agency",
                "reason",
                "client_wishes",
                "urgency",
                "categories",
                "message",
            )
        }


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.full_name or obj.user.username}（{obj.get_role_display()}）"


class AcceptForm(forms.Form):
    assignee = AssigneeChoiceField(
        label=_("Assign to"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Myself (or the worker already assigned)"),
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff is not None:
            self.fields["assignee"].queryset = staff


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"),
        error_messages={"required": _("Write why the referral is declined.")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FirstContactForm(forms.Form):
    on = forms.DateField(
        label=_("First interview held on"), initial=timezone.localdate, widget=DateInput()
    )

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return on


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        error_messages={"required": _("Write a message.")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordsFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Client name or reading"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
