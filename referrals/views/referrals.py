"""The referral pages (つなぎ / 紹介のみ / 共同支援): the form, a referral's page with the actions
of each side, the printable introduction, and the records the law asks for (29条 provision
records, 30条 confirmation records) per agency, per client and as CSV.

Referrals are fetched through ``referrals.selectors.referral_get``: only the caseworkers and
supervisors of the sending and the receiving agency reach one, anyone else gets a 404. Every
step is one service call; a step the service refuses (consent withdrawn or expired in between,
someone else answered first) shows the service's message on the referral's page, as it now
stands, with nothing lost.
"""

from collections.abc import Iterable, Iterator
from itertools import batched
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Agency
from cases.models import Client
from cases.permissions import can_work_with_clients
from cases.selectors import client_get
from consent import gate
from consent.models import DataCategory, Purpose
from core.csv_export import csv_lines
from core.forms import add_service_errors

from .. import services
from ..forms import (
    AcceptForm,
    DeclineForm,
    FirstContactForm,
    MessageForm,
    RecordsFilterForm,
    ReferralForm,
)
from ..models import (
    CONSENT_PURPOSE,
    NEEDS_CONSENT,
    ConfirmationRecord,
    ProvisionRecord,
    Referral,
    ReferralType,
    Status,
    Urgency,
)
from ..permissions import Side, side_of
from ..selectors import (
    confirmation_records_for_agency,
    provision_records_for_agency,
    receiving_staff,
    records_for_client,
    records_for_export,
    referral_copy,
    referral_get,
    referral_recipients,
)

FORM = "referrals/referral_form.html"
PAGE = "referrals/referral_detail.html"


def _require_client_work(request: HttpRequest) -> None:
    if not can_work_with_clients(request.viewer):
        raise Http404


# --- The form ----------------------------------------------------------------------------------


def _recipients(request: HttpRequest, referral: Referral | None) -> QuerySet[Agency]:
    """The directory's receiving agencies, not this one; a draft keeps the agency it names
    even if that one stopped receiving since (editing must not drop it silently)."""
    agencies = referral_recipients(viewer=request.viewer)
    if referral is not None:
        agencies = Agency.objects.filter(
            Q(pk__in=agencies.values("pk")) | Q(pk=referral.to_agency_id)
        ).order_by("name_kana", "name", "id")
    return agencies


def _initial(request: HttpRequest, referral: Referral | None) -> dict:
    if referral is None:
        return {"to_agency": request.GET.get("to", ""), "urgency": Urgency.NORMAL}
    return {
        "type": referral.type,
        "to_agency": str(referral.to_agency.public_id),
        "reason": referral.reason,
        "client_wishes": referral.client_wishes,
        "urgency": referral.urgency,
        "categories": referral.categories,
        "message": referral.message,
    }


def _consent_url(referral: Referral, covered: dict) -> str:
    """consent:new for what the draft names without a valid consent, coming back to it."""
    query = {
        "next": reverse("referrals:edit", args=[referral.public_id]),
        "recipient": str(referral.to_agency.public_id),
        "purpose": referral.consent_purpose or Purpose.TSUNAGI,
        "category": [c for c in referral.categories if c not in covered],
    }
    url = reverse("consent:new", args=[referral.client.public_id])
    return f"{url}?{urlencode(query, doseq=True)}"


def _form_page(request: HttpRequest, client: Client, referral: Referral | None) -> HttpResponse:
    """The referral form, new or a draft. Buttons:

    - save: the draft is saved (only consented categories) and its page opens, to send it;
    - record_consent=<category>: the draft is saved first, with that category, so nothing typed
      is lost, and consent:new opens; saving the consent comes back here.

    With htmx, changing the type or the agency reloads the categories alone.
    """
    recording = request.method == "POST" and "record_consent" in request.POST
    data = None
    if request.method == "POST":
        data = request.POST
    elif request.htmx and request.GET.get("partial") == "categories":
        data = request.GET
    form = ReferralForm(
        data,
        recipients=_recipients(request, referral),
        covered_for=lambda agency, referral_type: gate.consented(
            client=client, recipient=agency, purpose=CONSENT_PURPOSE.get(referral_type)
        ),
        recording_consent=recording,
        initial=_initial(request, referral),
    )
    context = {"form": form, "client": client, "referral": referral}
    if request.method == "GET" and data is not None:
        return render(request, f"{FORM}#categories", context)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        requested = request.POST.get("record_consent", "")
        if recording and fields["type"] in NEEDS_CONSENT and requested in DataCategory.values:
            # The draft names the category the consent is recorded for (and the basic
            # information, which a referral with information always carries).
            fields["categories"] = list(
                dict.fromkeys([DataCategory.BASIC, *fields["categories"], requested])
            )
        try:
            referral = services.referral_draft(
                viewer=request.viewer, client=client, fields=fields, referral=referral
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if recording and referral.needs_consent:
                return redirect(_consent_url(referral, form.covered))
            messages.success(
                request, _("The draft was saved. Check what will be sent, then send it.")
            )
            return redirect("referrals:detail", public_id=referral.public_id)
    return render(request, FORM, context)


@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = client_get(viewer=request.viewer, public_id=client_id)
    return _form_page(request, client, None)


@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    if side_of(request.viewer, referral) != Side.SENDER:
        raise Http404
    if referral.status != Status.DRAFT:
        messages.info(request, _("Only a draft can be changed."))
        return redirect("referrals:detail", public_id=referral.public_id)
    return _form_page(request, referral.client, referral)


# --- A referral's page and its steps ----------------------------------------------------------


def _detail(
    request: HttpRequest,
    referral: Referral,
    *,
    refusal: str = "",
    accept_form: AcceptForm | None = None,
    decline_form: DeclineForm | None = None,
    contact_form: FirstContactForm | None = None,
    message_form: MessageForm | None = None,
) -> HttpResponse:
    viewer = request.viewer
    side = side_of(viewer, referral)
    sender = side == Side.SENDER
    copy = referral_copy(viewer=viewer, referral=referral)
    can_answer = not sender and referral.status == Status.SENT
    labels = dict(DataCategory.choices)
    missing = []
    if sender and referral.status == Status.DRAFT and referral.needs_consent:
        # Shown before sending; referral_send checks it again itself.
        covered = gate.consented(
            client=referral.client,
            recipient=referral.to_agency,
            purpose=referral.consent_purpose,
        )
        missing = [labels[c] for c in referral.categories if c not in covered]
    name = referral.client.full_name if sender else copy.person_name
    context = {
        "referral": referral,
        "side": side,
        "is_sender": sender,
        "person_name": name,
        "snapshot": copy.sections,
        "category_labels": [labels.get(c, c) for c in referral.categories],
        "missing": missing,
        "refusal": refusal,
        "thread": copy.thread,
        "thread_withheld": copy.thread_withheld,
        "texts_visible": copy.texts_visible,
        "can_edit": sender and referral.status == Status.DRAFT,
        "can_withdraw": sender and referral.status in {Status.DRAFT, Status.SENT},
        "can_answer": can_answer,
        "can_confirm": not sender
        and referral.type != ReferralType.INTRODUCTION
        and referral.status in {Status.ACCEPTED, Status.IN_SUPPORT}
        and referral.first_contact_on is None,
        "accept_form": accept_form
        or (AcceptForm(staff=receiving_staff(viewer=viewer)) if can_answer else None),
        "decline_form": decline_form or DeclineForm(),
        "contact_form": contact_form or FirstContactForm(),
        "message_form": message_form or MessageForm(),
    }
    return render(request, PAGE, context)


def _refused(request: HttpRequest, public_id: UUID, error: ValidationError) -> HttpResponse:
    """The service said no: the page as it now stands, with the service's own words."""
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    return _detail(request, referral, refusal=" ".join(error.messages))


@require_GET
def referral_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    return _detail(request, referral)


@require_POST
def referral_send(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    try:
        referral = services.referral_send(viewer=request.viewer, referral=referral)
    except ValidationError as error:
        return _refused(request, public_id, error)
    if referral.type == ReferralType.INTRODUCTION:
        messages.success(
            request, _("The introduction was recorded. Print the agency's details for the person.")
        )
    else:
        messages.success(request, _("Sent to %(agency)s.") % {"agency": referral.to_agency.name})
    return redirect("referrals:detail", public_id=public_id)


@require_POST
def referral_withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    try:
        services.referral_withdraw(viewer=request.viewer, referral=referral)
    except ValidationError as error:
        return _refused(request, public_id, error)
    messages.success(request, _("The referral was withdrawn."))
    return redirect("referrals:detail", public_id=public_id)


@require_POST
def referral_accept(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    form = AcceptForm(request.POST, staff=receiving_staff(viewer=request.viewer))
    if not form.is_valid():
        return _detail(request, referral, accept_form=form)
    membership = form.cleaned_data["assignee"]
    try:
        referral = services.referral_accept(
            viewer=request.viewer,
            referral=referral,
            assignee=membership.user if membership else None,
        )
    except ValidationError as error:
        return _refused(request, public_id, error)
    if referral.receiving_client_id:
        messages.success(
            request,
            _("Accepted. This agency's record of the person was created from what was sent."),
        )
    else:
        messages.success(request, _("Accepted."))
    return redirect("referrals:detail", public_id=public_id)


@require_POST
def referral_decline(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _detail(request, referral, decline_form=form)
    try:
        services.referral_decline(
            viewer=request.viewer, referral=referral, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        return _refused(request, public_id, error)
    messages.success(request, _("The referral was declined."))
    return redirect("referrals:detail", public_id=public_id)


@require_POST
def first_contact(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    form = FirstContactForm(request.POST)
    if not form.is_valid():
        return _detail(request, referral, contact_form=form)
    try:
        referral = services.referral_confirm_first_contact(
            viewer=request.viewer, referral=referral, on=form.cleaned_data["on"]
        )
    except ValidationError as error:
        return _refused(request, public_id, error)
    if referral.status == Status.COMPLETED:
        messages.success(request, _("The first interview was recorded: the referral is complete."))
    else:
        messages.success(request, _("The first interview was recorded."))
    return redirect("referrals:detail", public_id=public_id)


@require_POST
def message_post(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A message to the other agency; with htmx the thread alone comes back."""
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.referral_message_post(
                viewer=request.viewer, referral=referral, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                url = reverse("referrals:detail", args=[public_id])
                return redirect(f"{url}#thread")
            referral = referral_get(viewer=request.viewer, public_id=public_id)
            form = MessageForm()
    if request.htmx:
        copy = referral_copy(viewer=request.viewer, referral=referral)
        context = {
            "referral": referral,
            "thread": copy.thread,
            "thread_withheld": copy.thread_withheld,
            "message_form": form,
        }
        return render(request, f"{PAGE}#thread", context)
    return _detail(request, referral, message_form=form)


@require_GET
def referral_print(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """For the person: the receiving agency's contact, opening hours and note, on A4."""
    referral = referral_get(viewer=request.viewer, public_id=public_id)
    if side_of(request.viewer, referral) != Side.SENDER:
        raise Http404
    return render(
        request,
        "referrals/referral_print.html",
        {
            "referral": referral,
            "agency": referral.to_agency,
            "category_labels": [dict(DataCategory.choices)[c] for c in referral.categories],
            "printed_on": timezone.localdate(),
        },
    )


# --- The records the law asks for ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def agency_records(request: HttpRequest) -> HttpResponse:
    """This agency's provision records (what it passed on) and confirmation records (what it
    received, and how the provider obtained it), newest first, filtered by the client's name.

    The filter is POSTed (and so are the "older records" buttons of a filtered page, with the
    name again): a name stays out of the address bar, the history and the server's logs. A GET
    shows every record; its cursors (``p``, ``c``: a date and an id) name no one."""
    _require_client_work(request)
    params = request.POST if request.method == "POST" else request.GET
    form = RecordsFilterForm(request.POST if request.method == "POST" else None)
    name = form.cleaned_data["q"] if form.is_valid() else ""
    provisions = provision_records_for_agency(
        viewer=request.viewer, name=name, cursor=params.get("p") or None
    )
    confirmations = confirmation_records_for_agency(
        viewer=request.viewer, name=name, cursor=params.get("c") or None
    )
    return render(
        request,
        "referrals/records.html",
        {
            "form": form,
            "name": name,
            "provisions": provisions,
            "confirmations": confirmations,
            # Each list pages on its own; the other's cursor is kept.
            "provisions_cursor": params.get("p", ""),
            "confirmations_cursor": params.get("c", ""),
            "category_choices": DataCategory.choices,
        },
    )


def _csv_row(
    record: ProvisionRecord | ConfirmationRecord, labels: dict[str, str], kinds: dict[type, str]
) -> list[str]:
    categories = "、".join(str(labels.get(c, c)) for c in record.categories)
    if isinstance(record, ProvisionRecord):
        row = [
            kinds[ProvisionRecord],
            timezone.localtime(record.provided_at).strftime("%Y-%m-%d %H:%M"),
            record.client.full_name,
            record.client.full_name_kana,
            record.recipient.name,
            categories,
            " ".join(record.consents),
            record.provided_by.full_name or record.provided_by.username,
        ]
    else:
        row = [
            kinds[ConfirmationRecord],
            timezone.localtime(record.received_at).strftime("%Y-%m-%d %H:%M"),
            record.client.full_name,
            record.client.full_name_kana,
            record.provider.name,
            categories,
            record.how_obtained,
            record.confirmed_by.full_name or record.confirmed_by.username,
        ]
    # Written by core.csv_export, which quotes a cell that starts like a formula.
    return [*row, str(record.referral.public_id)]


CSV_ROWS_PER_CHUNK = 500


def _csv_chunks(
    header: list[str],
    records: Iterable[ProvisionRecord | ConfirmationRecord],
    labels: dict[str, str],
    kinds: dict[type, str],
) -> Iterator[str]:
    lines = csv_lines(header, (_csv_row(record, labels, kinds) for record in records))
    # The BOM first, so spreadsheet software reads the UTF-8 as UTF-8 (Japanese intact).
    yield "\ufeff" + next(lines)
    for batch in batched(lines, CSV_ROWS_PER_CHUNK):
        yield "".join(batch)


@require_http_methods(["GET", "POST"])
def agency_records_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The same records as CSV (UTF-8 with a BOM, so spreadsheet software reads Japanese),
    streamed: rows are read from the database in chunks and sent as they are written, so
    100,000 records take no more memory than 1,000. The page's button POSTs the filter (a
    name is never in the download's URL); a GET exports every record."""
    _require_client_work(request)
    form = RecordsFilterForm(request.POST if request.method == "POST" else None)
    name = form.cleaned_data["q"] if form.is_valid() else ""
    # Translated now: the rows are written after the view returns, outside this request's
    # language.
    header = [
        _("Kind of record"),
        _("Date and time"),
        _("Person"),
        _("Reading"),
        _("Other agency"),
        _("Information"),
        _("Consent / how it was obtained"),
        _("Recorded by"),
        _("Referral"),
    ]
    labels = {value: str(label) for value, label in DataCategory.choices}
    kinds = {
        ProvisionRecord: _("Provision record (Art. 29)"),
        ConfirmationRecord: _("Confirmation record (Art. 30)"),
    }
    records = records_for_export(viewer=request.viewer, name=name)
    response = StreamingHttpResponse(
        _csv_chunks(header, records, labels, kinds), content_type="text/csv; charset=utf-8"
    )
    filename = f"referral-records-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def client_records(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """Every provision and confirmation record about one person, to answer their request to
    know who their information was given to and where it came from."""
    client = client_get(viewer=request.viewer, public_id=client_id)
    records = records_for_client(viewer=request.viewer, client=client)
    return render(
        request,
        "referrals/client_records.html",
        {
            "client": client,
            "provisions": records.provisions,
            "confirmations": records.confirmations,
            "category_choices": DataCategory.choices,
            "printed_on": timezone.localdate(),
        },
    )
