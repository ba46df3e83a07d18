"""Forms of the consent screens: recording a consent (本人同意) and its withdrawal.

The form only reads what was typed; the rules (a representative needs a name, the end date
after the start, the scan's type and size …) are the service's, shown back on the form.
A scan stopped while it streamed in (too large) never reaches the service: the view says so
with ``scan_refused``.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agencies.forms import AgencyPickerField
from agencies.models import Agency
from cases.forms.clients import DateInput

from .models import ConsentMethod, DataCategory, GivenBy, Purpose
from .scans import SUFFIXES as SCAN_SUFFIXES
from .scans import megabytes


class ConsentForm(forms.Form):
    recipient = AgencyPickerField(
        label=_("To agency"), purpose="consent-recipient", to_field_name="public_id"
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    categories = forms.MultipleChoiceField(
        label=_("Information the person agreed to pass on"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Physical and mental health is special-care personal information: tick it only "
            "if the person agreed to it explicitly."
        ),
    )
    method = forms.ChoiceField(
        label=_("How it was given"), choices=ConsentMethod.choices, widget=forms.RadioSelect
    )
    given_by = forms.ChoiceField(
        label=_("Given by"),
        choices=GivenBy.choices,
        initial=GivenBy.CLIENT,
        widget=forms.RadioSelect,
    )
    representative_name = forms.CharField(
        label=_("Name of the legal representative"),
        required=False,
        max_length=100,
        help_text=_("For a person with parental authority or an adult guardian."),
    )
    obtained_on = forms.DateField(
        label=_("Obtained on"), initial=timezone.localdate, widget=DateInput()
    )
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    # Last, so that a browser sends everything typed before the file: a scan too large is
    # stopped while it streams in (consent.uploads), and nothing sent after it would arrive.
    scan = forms.FileField(
        label=_("Scan of the signed form"),
        required=False,
        # An empty file is consent.scans' to refuse, with its own words.
        allow_empty_file=True,
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{suffix}" for suffix in SCAN_SUFFIXES)}
        ),
    )

    def __init__(
        self,
        *args,
        recipients: QuerySet[Agency],
        validity_days: int,
        scan_refused: ValidationError | None = None,
        **kwargs,
    ):
        """``scan_refused``: the upload of the scan was stopped before it arrived (too large,
        consent.uploads); the form is then not valid, whatever else was typed."""
        super().__init__(*args, **kwargs)
        self.scan_refused = scan_refused
        self.fields["scan"].help_text = _(
            "PDF, JPEG or PNG, up to %(megabytes)s MB. Kept outside any public address."
        ) % {"megabytes": megabytes()}
        self.fields["recipient"].queryset = recipients
        self.fields["valid_until"].help_text = _(
            "Leave blank for this agency's default: %(days)s days from the day it was obtained."
        ) % {"days": validity_days}

    def clean_scan(self):
        if self.scan_refused is not None:
            raise self.scan_refused
        return self.cleaned_data["scan"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "recipient": data["recipient"],
            "purpose": data["purpose"],
            "categories": data["categories"],
            "method": data["method"],
            "given_by": data["given_by"],
            "representative_name": data["representative_name"],
            "obtained_on": data["obtained_on"],
            "valid_until": data["valid_until"],
            "scan": data["scan"] or None,
        }


class ConsentWithdrawForm(forms.Form):
    on = forms.DateField(label=_("Withdrawn on"), initial=timezone.localdate, widget=DateInput())
    how = forms.CharField(
        label=_("How it was withdrawn"),
        max_length=200,
        help_text=_("For example: by phone from the person, in writing at the counter."),
    )

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return on


class EmergencyDisclosureForm(forms.Form):
    recipient = AgencyPickerField(
        label=_("To agency"), purpose="consent-recipient", to_field_name="public_id"
    )
    categories = forms.MultipleChoiceField(
        label=_("Information to show"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only what the other agency needs to protect the person now."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Whose life or body is at risk, what is happening, and why the person's consent "
            "cannot be obtained now."
        ),
    )

    def __init__(self, *args, recipients: QuerySet[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(
        label=pgettext_lazy("emergency review", "Review"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Was the disclosure necessary and limited to what was needed? Was the person told "
            "afterwards?"
        ),
    )
