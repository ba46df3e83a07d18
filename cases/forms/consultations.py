"""Forms of the consultation log (支援経過記録).

The quick entry is for the record written straight after a call: a routine phone call must take
under 30 seconds with the keyboard alone. So it has few fields, all plain inputs in tab order,
every default already set (today, phone, with the client, me), the summary focused first, and a
single-line field last so that Enter there saves. The correction form has every field.
"""

import datetime
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from agencies.forms import AgencyPickerField
from agencies.models import Agency
from agencies.permissions import Viewer
from core.forms import IntegerKeyChoiceField

from ..models import Case, Consultation, HouseholdMember, Method, Relationship
from ..selectors import partner_agencies
from ..services import CONSULTATION_FIELDS
from .cases import WorkersChoiceField, agency_workers
from .clients import DateInput

# Japanese keyboards type 、 or ， as readily as a comma; accept all of them (and the half-width ､).
TAG_SEPARATORS = re.compile(r"[,、，､]")


def split_tags(text: str) -> list[str]:
    """'家族, 就労、面談' → ['家族', '就労', '面談']: trimmed, empty ones and repeats dropped."""
    return list(dict.fromkeys(tag.strip() for tag in TAG_SEPARATORS.split(text) if tag.strip()))


class TagsField(forms.CharField):
    """Tags typed on one line; cleaned to a list."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "、".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        # CharField refuses NUL in its cleaned value, a list here whose repr hides it: check the
        # line as typed, before PostgreSQL's JSON refuses it with a 500.
        ProhibitNullCharactersValidator()(text)
        return split_tags(text)


class TypedDateField(forms.DateField):
    """A date typed quickly, in one text box (a native date input costs three tab stops and
    reads a typed year oddly): 2026-12-01, 2026/12/01, 20261201, 12/1 or 12月1日 (the nearest
    such day in the field's direction), +7, 7日後 or -1 (days from today); full-width as well.
    """

    default_error_messages = {"invalid": _("Enter a date like 2026-12-01, 12/1 or +7.")}

    def __init__(self, *, direction: str, today=timezone.localdate, **kwargs):
        self.direction = direction  # "past" (it happened) or "future" (it is planned)
        self.today = today  # a clock, so a test can fix the day without patching Django
        kwargs.setdefault(
            "widget",
            forms.DateInput(format="%Y-%m-%d", attrs={"autocomplete": "off", "size": 10}),
        )
        super().__init__(**kwargs)

    def to_python(self, value) -> datetime.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value
        text = re.sub(r"\s", "", unicodedata.normalize("NFKC", str(value)))
        today = self.today()
        try:
            if match := re.fullmatch(r"([+-])(\d{1,3})日?", text):
                days = int(match[2])
                return today + datetime.timedelta(days=days if match[1] == "+" else -days)
            if match := re.fullmatch(r"(\d{1,3})日後", text):
                return today + datetime.timedelta(days=int(match[1]))
            if match := re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?", text):
                return datetime.date(int(match[1]), int(match[2]), int(match[3]))
            if match := re.fullmatch(r"(\d{1,2})[-/.月](\d{1,2})日?", text):
                return self._nearest(today, int(match[1]), int(match[2]))
        except ValueError:
            pass  # 2026-02-30 and the like
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def _nearest(self, today: datetime.date, month: int, day: int) -> datetime.date:
        """12/1 typed in November is next month; 12/1 typed in January, for a past date, is last
        December."""
        candidate = datetime.date(today.year, month, day)
        if self.direction == "future" and candidate < today:
            return datetime.date(today.year + 1, month, day)
        if self.direction == "past" and candidate > today:
            return datetime.date(today.year - 1, month, day)
        return candidate


class MemberChoiceField(IntegerKeyChoiceField):
    def label_from_instance(self, obj: HouseholdMember) -> str:
        relationship = obj.get_relationship_display()
        return f"{obj.name}（{relationship}）" if obj.name else str(relationship)


def _family_members(case: Case, current: HouseholdMember | None = None) -> QuerySet:
    """The client's household members other than the client."""
    members = HouseholdMember.objects.filter(household_id=case.client.household_id).exclude(
        relationship=Relationship.SELF
    )
    if current is not None:
        members = HouseholdMember.objects.filter(Q(pk__in=members) | Q(pk=current.pk))
    return members.order_by("birth_year", "id")


def _partner_agencies(case: Case, current: Agency | None = None) -> QuerySet:
    """Agencies active today, other than the case's own (and the one already chosen): what the
    picker's "consultation-partner" purpose searches, the case's agency being the viewer's."""
    agencies = partner_agencies(agency_id=case.agency_id)
    if current is not None:
        agencies = Agency.objects.filter(Q(pk__in=agencies) | Q(pk=current.pk))
    return agencies


class _ConsultationFields(forms.Form):
    """What the quick entry and the correction form share."""

    summary = forms.CharField(
        label=_("Summary"),
        max_length=200,
        help_text=_("One line: what happened or was agreed."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.PHONE)
    occurred_on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateInput())
    with_client = forms.BooleanField(
        label=_("Spoke with the client themselves"), required=False, initial=True
    )
    family_member = MemberChoiceField(
        label=_("Family member"),
        required=False,
        queryset=HouseholdMember.objects.none(),
        empty_label=_("(none)"),
    )
    # Posts the agency's pk, as the select it replaced did.
    partner_agency = AgencyPickerField(
        label=_("Other agency"), required=False, purpose="consultation-partner"
    )
    next_contact_on = forms.DateField(
        label=_("Next planned contact"), required=False, widget=DateInput()
    )
    tags = TagsField(
        label=_("Tags"),
        required=False,
        help_text=_("Separate with 、 or commas."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(
        self,
        data=None,
        *,
        case: Case,
        family_member: HouseholdMember | None = None,
        partner_agency: Agency | None = None,
        **kwargs,
    ):
        super().__init__(data, **kwargs)
        self.case = case
        if case.client.household_id is None:
            # No household recorded: nobody to choose, so no field to tab through.
            del self.fields["family_member"]
        else:
            self.fields["family_member"].queryset = _family_members(case, family_member)
        self.fields["partner_agency"].queryset = _partner_agencies(case, partner_agency)

    def service_fields(self) -> dict:
        return {
            field: self.cleaned_data[field]
            for field in CONSULTATION_FIELDS
            if field in self.cleaned_data
        }


class QuickConsultationForm(_ConsultationFields):
    """The quick entry. Field order is the tab order; ``tags`` stays last and single-line."""

    occurred_on = TypedDateField(label=_("Date"), direction="past", initial=timezone.localdate)
    next_contact_on = TypedDateField(
        label=_("Next planned contact"),
        direction="future",
        required=False,
        help_text=_("e.g. 12/1, or +7 for a week from today"),
    )

    staff = WorkersChoiceField(
        label=_("Staff"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Tick colleagues who were there too."),
    )

    field_order = [
        "summary",
        "method",
        "occurred_on",
        "with_client",
        "family_member",
        "partner_agency",
        "next_contact_on",
        "staff",
        "tags",
    ]

    def __init__(self, data=None, *, case: Case, viewer: Viewer, autofocus: bool = True, **kwargs):
        # Ids carry the case: the dashboard may show several of these forms at once.
        kwargs.setdefault("auto_id", f"id_%s_{case.public_id.hex[:8]}")
        super().__init__(data, case=case, **kwargs)
        if autofocus:
            self.fields["summary"].widget.attrs["autofocus"] = True
        self.fields["staff"].queryset = agency_workers(case.agency_id)
        self.fields["staff"].initial = [viewer.user.pk]
        if not case.client.is_contacted:
            # Known only through family so far (本人未接触): most calls are with the family, and
            # a ticked box here would record the first direct contact. Make it a choice.
            self.fields["with_client"].initial = False

    @classmethod
    def for_case(
        cls, case: Case, viewer: Viewer, data=None, *, autofocus: bool = True
    ) -> "QuickConsultationForm":
        """``autofocus=False`` for a page where the form is not the first thing to do (a
        browser scrolls to an autofocused field on load)."""
        return cls(data, case=case, viewer=viewer, autofocus=autofocus)

    def focus_first_error(self) -> None:
        """After a refusal, put the cursor where the correction is needed."""
        first = next((name for name in self.fields if name in self.errors), None)
        if first is not None:
            self.fields["summary"].widget.attrs.pop("autofocus", None)
            self.fields[first].widget.attrs["autofocus"] = True

    def staff_list(self) -> list[User]:
        # Nobody ticked means the person logging it (the service's default).
        return list(self.cleaned_data.get("staff") or [])


class ConsultationCorrectionForm(_ConsultationFields):
    """Every field of a record, filled with what it says now, and why it is corrected."""

    start_time = forms.TimeField(
        label=_("Start time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=24 * 60
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    staff = WorkersChoiceField(
        label=_("Staff"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=200,
        required=False,
        help_text=_("Optional. The earlier text stays in the record's history either way."),
    )

    field_order = [
        "occurred_on",
        "start_time",
        "duration_minutes",
        "method",
        "with_client",
        "family_member",
        "partner_agency",
        "staff",
        "summary",
        "notes",
        "next_contact_on",
        "tags",
        "reason",
    ]

    def __init__(self, data=None, *, consultation: Consultation, **kwargs):
        staff = list(consultation.staff.all())
        initial = {field: getattr(consultation, field) for field in CONSULTATION_FIELDS}
        initial["staff"] = [user.pk for user in staff]
        super().__init__(
            data,
            case=consultation.case,
            family_member=consultation.family_member,
            partner_agency=consultation.partner_agency,
            initial=initial,
            **kwargs,
        )
        # The agency's caseworkers and supervisors, and whoever is on the record already (they
        # may have left since: correcting a typo must not drop them silently).
        workers = agency_workers(consultation.case.agency_id)
        self.fields["staff"].queryset = User.objects.filter(
            Q(pk__in=workers.values("pk")) | Q(pk__in=[user.pk for user in staff])
        ).order_by("full_name_kana", "full_name")

    def changed(self) -> bool:
        return bool(set(self.changed_data) - {"reason"})
