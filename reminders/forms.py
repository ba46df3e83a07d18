"""The two settings forms: an agency's reminder thresholds, a person's delivery preference."""

from django import forms
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from agencies.forms import AGENCY_NUMBER_BOUNDS
from agencies.models import Agency
from core.forms import bound_number

from .conditions import THRESHOLD_FIELDS
from .models import Delivery, DeliveryPreference


class AgencyReminderSettingsForm(forms.Form):
    """The agency's fields as they are on the model (labels, limits, help); the service checks
    what spans two fields, so the same rule holds wherever the values come from."""

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, initial=model_to_dict(agency, fields=THRESHOLD_FIELDS), **kwargs)
        self.fields.update(fields_for_model(Agency, fields=THRESHOLD_FIELDS))
        for name, field in self.fields.items():
            # The model's limits, checked here so the message sits under the field.
            limits = Agency._meta.get_field(name).validators
            field.validators.extend(v for v in limits if v not in field.validators)
            for validator in limits:
                attribute = {"min_value": "min", "max_value": "max"}.get(validator.code)
                if attribute:
                    field.widget.attrs[attribute] = validator.limit_value
            if name in AGENCY_NUMBER_BOUNDS:
                bound_number(field, *AGENCY_NUMBER_BOUNDS[name])


class DeliveryPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(label=_("Reminder emails"), choices=Delivery.choices)
    hour = forms.IntegerField(
        label=_("Hour of the digest"),
        min_value=0,
        max_value=23,
        help_text=_(
            "Japan time, 0–23. Also when emails held over a day off go out the next business day."
        ),
    )
    quiet_on_days_off = forms.BooleanField(
        label=_("No emails on weekends and holidays"), required=False
    )

    def __init__(self, *args, preference: DeliveryPreference | None, **kwargs):
        initial = {"delivery": Delivery.IMMEDIATE, "hour": 8, "quiet_on_days_off": False}
        if preference is not None:
            initial = model_to_dict(preference, fields=list(initial))
        super().__init__(*args, initial=initial, **kwargs)
