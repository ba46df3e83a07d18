"""Forms of the referral pages: the referral itself (つなぎ / 紹介のみ / 共同支援), the answers of
the receiving agency, the message thread and the record lists' filter.

The referral form offers only the categories a valid consent to the chosen recipient covers
(``covered``, from the consent gate); the others are shown disabled with a way to record the
missing consent. The person's wishes are kept exactly as typed (no stripping).
"""

from dataclasses import dataclass
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from agencies.forms import AgencyPickerField
from agencies.models import Agency, Membership
from cases.forms.clients import DateInput
from consent.models import Consent, DataCategory
from core.forms import IntegerKeyChoiceField

from .models import NEEDS_CONSENT, JointRoleKind, ReferralType, Status, Urgency
from .selectors import INCOMING, QUEUE_STATUSES, UNASSIGNED, QueueQuery


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
    to_agency = AgencyPickerField(
        label=_("To agency"), purpose="referral-recipient", to_field_name="public_id"
    )
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
        recipients: QuerySet[Agency],
        covered_for=None,
        recording_consent: bool = False,
        **kwargs,
    ):
        """``recipients`` are the agencies that may be chosen; ``covered_for(agency, type)``
        answers {category: consent} for the chosen one and the chosen type (a consent covers the
        purpose it was given for: a つなぎ consent a つなぎ, a joint-support one 共同支援).
        ``recording_consent``: the form is saved as a draft on the way to recording a missing
        consent, so it may name categories the consent does not cover yet."""
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].queryset = recipients
        self.covered_for = covered_for or (lambda agency, referral_type: {})
        self.recording_consent = recording_consent
        self._covered: dict[str, Consent] | None = None
        self._chosen: Agency | bool | None = False  # False: not looked up yet

    def _raw(self, name: str):
        if self.is_bound:
            return self.data.get(name)
        return self.initial.get(name, self.fields[name].initial)

    @property
    def chosen_recipient(self) -> Agency | None:
        """The chosen agency if it may be chosen (looked up once); None otherwise."""
        if self._chosen is False:
            try:
                self._chosen = self.fields["to_agency"].clean(self._raw("to_agency"))
            except ValidationError:
                self._chosen = None
        return self._chosen

    @property
    def chosen_type(self) -> str:
        return str(self._raw("type") or ReferralType.TSUNAGI)

    @property
    def covered(self) -> dict[str, Consent]:
        """{category: consent} valid today for the chosen recipient and type (asked once)."""
        if self._covered is None:
            recipient = self.chosen_recipient
            self._covered = self.covered_for(recipient, self.chosen_type) if recipient else {}
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


class AssigneeChoiceField(IntegerKeyChoiceField):
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


# --- The supervisors' queues ----------------------------------------------------------------------

MAX_AGE_FILTER = 250  # business days: about a year


def worker_choices(workers: list[Membership]) -> list[tuple[str, str]]:
    return [(str(m.user.pk), m.user.full_name) for m in workers]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, label) for s, label in Status.choices if s in QUEUE_STATUSES],
        required=False,
        widget=forms.HiddenInput,
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=[("", gettext_lazy("All types")), *ReferralType.choices],
        required=False,
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgency"),
        choices=[("", gettext_lazy("Any urgency")), *Urgency.choices],
        required=False,
    )
    worker = forms.ChoiceField(label=gettext_lazy("Assigned worker"), required=False)
    min_age = forms.IntegerField(
        label=gettext_lazy("Business days since sent, at least"),
        min_value=0,
        max_value=MAX_AGE_FILTER,
        required=False,
    )
    overdue = forms.BooleanField(
        label=gettext_lazy("Only unanswered past the limit"), required=False
    )

    def __init__(self, *args, direction: str, workers: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        choices = worker_choices(workers)
        if direction == INCOMING:
            self.fields["worker"].choices = [
                ("", gettext_lazy("Anyone")),
                (UNASSIGNED, gettext_lazy("Not assigned yet")),
                *choices,
            ]
        else:
            self.fields["worker"].label = gettext_lazy("Sent by")
            self.fields["worker"].choices = [("", gettext_lazy("Anyone")), *choices]

    def query(self) -> QueueQuery:
        """The filters that were valid; a bad one is shown with its error and left out."""
        self.is_valid()
        data = self.cleaned_data
        overdue = data.get("overdue", False)
        return QueueQuery(
            # "Only unanswered" means the referrals still waiting for an answer.
            status=Status.SENT if overdue else (data.get("status") or Status.SENT),
            type=data.get("type", ""),
            urgency=data.get("urgency", ""),
            worker=data.get("worker", ""),
            min_age=data.get("min_age"),
            overdue=overdue,
        )


class UUIDListField(forms.MultipleChoiceField):
    """Public ids ticked in the table; which ones exist for this agency is the selector's say."""

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        for item in value:
            try:
                UUID(item)
            except ValueError:
                raise ValidationError(
                    _("Choose referrals from the list."), code="invalid"
                ) from None

    def clean(self, value):
        return [UUID(item) for item in super().clean(value)]


class AssignForm(forms.Form):
    referral = UUIDListField(
        error_messages={"required": gettext_lazy("Tick the referrals to assign.")}
    )
    assignee = forms.TypedChoiceField(
        label=gettext_lazy("Assign to"),
        coerce=int,
        error_messages={"required": gettext_lazy("Choose whom to assign them to.")},
    )

    def __init__(self, *args, workers: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.workers = {m.user.pk: m.user for m in workers}
        self.fields["assignee"].choices = [("", "---------"), *worker_choices(workers)]


# --- Joint support --------------------------------------------------------------------------------

ROLE_FORM_FIELDS = ("role", "note", "contact_user", "contact_name", "period_from", "period_until")


class JointRoleForm(forms.Form):
    joint_role = forms.UUIDField(required=False, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=JointRoleKind.choices)
    note = forms.CharField(
        label=gettext_lazy("What it covers"),
        max_length=300,
        required=False,
        help_text=gettext_lazy(
            "For example: a visit every other week, the job interview practice."
        ),
    )
    contact_user = forms.TypedChoiceField(
        label=gettext_lazy("Contact person"), coerce=int, empty_value=None, required=False
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Contact person (name)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("When the contact person does not use Tsunagu."),
    )
    period_from = forms.DateField(label=gettext_lazy("Starts on"), widget=DateInput())
    period_until = forms.DateField(
        label=gettext_lazy("Ends on"), required=False, widget=DateInput()
    )

    def __init__(self, *args, staff: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_user"].choices = [
            ("", "---------"),
            *[(m.user.pk, m.user.full_name) for m in staff],
        ]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("contact_user") and not cleaned.get("contact_name"):
            self.add_error("contact_user", _("Choose a contact person or write their name."))
        start, end = cleaned.get("period_from"), cleaned.get("period_until")
        if start and end and end < start:
            self.add_error("period_until", _("The end date is before the start date."))
        return cleaned

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in ROLE_FORM_FIELDS}
        # The service takes the user by id: it checks they are on this agency's roster.
        fields["contact_user_id"] = fields.pop("contact_user")
        return fields


class PolicyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Support policy"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "What both agencies aim for with the person, and how; in line with the person's "
            "wishes. Saving proposes it to the other agency."
        ),
    )
