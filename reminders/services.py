"""Writes of the reminders app: the sweep that finds due conditions, the sender, the reconciler,
and the settings people keep (an agency's thresholds, a person's delivery preference).

The database is the truth. The sweep walks each condition in keyset batches (constant memory)
and inserts rows with ``ON CONFLICT DO NOTHING`` against the unique key (kind, target, due date,
recipient) of the live rows, so running it twice, or two sweeps at once, creates each reminder
once; a cancelled row does not block the same reminder when its condition comes back. Before it
creates anything it cancels pending rows whose condition has gone, and the sender checks each
person's rows again right after claiming them, before their email: a contact logged or a
referral answered in between stops the reminder. Each row is checked as of its own due date (a
meeting tomorrow is still tomorrow from the day it was due), not as of today, so a reminder held
for a digest or over a day off is still emailed.

Sending has three steps, each a conditional update: claim (``SELECT … FOR UPDATE SKIP LOCKED``,
then ``claimed_at``), send the email, then ``sent_at`` only where this sender's claim still
stands. A sender killed between claim and ``sent_at`` leaves the row in flight; once the claim
is older than the grace period another sender may claim it again, and the reconciler re-queues
it, so no email is lost. The only window for a second copy is the moment between the SMTP
server's "250 OK" and the ``sent_at`` commit: exactly once across SMTP cannot be had, and the
claim per email keeps that window to one exchange.

A failed email is retried with a doubling, capped backoff, for as long as the failure is
transient (the server down, a timeout, a 4xx): "SMTP down" is delivered when it comes back. Only
a permanent refusal (a 5xx for the recipient or the data) stops, after
REMINDERS_SEND_MAX_ATTEMPTS tries; the row then shows as given up in the operators' queue, with
the error, until a system admin re-queues it.
"""

import contextlib
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import (
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import Coalesce, Least, RowNumber
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer, can_manage_agency, is_system_admin
from audit.services import audit_record
from cases.models import Case, HomeVisit, Meeting, Plan, PlanReview, PlanStatus, Stage
from cases.selectors import visits_without_contact_in_a_row
from consent.models import Consent, EmergencyDisclosure
from core.business_days import add_business_days, is_business_day
from referrals.models import NEEDS_CONSENT, Referral, Status

from .models import Delivery, DeliveryPreference, Kind, Reminder, TargetType
from .selectors import reminder_scope

logger = logging.getLogger(__name__)

# The agency settings the sweep reads (issue 8's table; defaults on the model). The referral
# one is shared with the supervisors' queue, which marks the same referrals overdue.
THRESHOLD_FIELDS = [
    "next_contact_overdue_days",
    "no_contact_days",
    "no_contact_supervisor_days",
    "referral_alert_business_days",
    "first_contact_business_days",
    "plan_review_days_before",
    "consent_expiring_days_before",
    "visits_without_contact",
    "closed_year_end",
]

# How many of a client's latest visits the "in a row" rule looks at. A run longer than this
# still fires; only its due date then moves with each new visit.
VISIT_HISTORY = 50

# (kind, target_type, target_id, due_on, recipient_id, agency_id)
Key = tuple[str, str, str, date, int, int]

# A day, or None: as of each key's own due date (the re-checks; see "The conditions").
Day = date | None


def _keyset(queryset: QuerySet, fields: list[str], batch_size: int) -> Iterator[list[dict]]:
    """``queryset`` in batches of ``batch_size`` rows ordered by id: one short query per batch,
    never more than one batch in memory, and page n costs what page 1 does."""
    last_id = 0
    while True:
        rows = list(
            queryset.filter(id__gt=last_id).order_by("id").values("id", *fields)[:batch_size]
        )
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return  # a short batch is the last: no query to find nothing
        last_id = rows[-1]["id"]


def _thresholds(*fields: str) -> list[tuple]:
    """The distinct values of agency settings: a handful, whatever the number of agencies, so
    each condition runs one range query per distinct value and the date bound stays a
    constant the indexes can use."""
    return list(Agency.objects.values_list(*fields).distinct().order_by())


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _supervisors(agency_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active supervisors of each agency: who hears of what their caseworkers miss."""
    found: dict[int, list[int]] = defaultdict(list)
    memberships = Membership.objects.filter(
        agency_id__in=set(agency_ids),
        role=Role.SUPERVISOR,
        is_active=True,
        user__is_active=True,
    ).values_list("agency_id", "user_id")
    for agency_id, user_id in memberships:
        found[agency_id].append(user_id)
    return found


def _open_cases(targets: set[str] | None) -> QuerySet[Case]:
    cases = Case.objects.exclude(stage=Stage.CLOSED)
    return cases.filter(public_id__in=targets) if targets is not None else cases


def _only(queryset: QuerySet, targets: set[str] | None) -> QuerySet:
    return queryset.filter(public_id__in=targets) if targets is not None else queryset


# --- The conditions ---------------------------------------------------------------------------
# Each yields batches of keys of the reminders whose condition holds on ``today``, optionally
# only for the given targets (public ids): the sweep creates from them. The re-checks (the sweep's
# and the sender's) ask the very same function with ``today=None``: "as of each row's own due
# date". A key's due date is worked out from the data (the planned day, the day the silence
# reached its length, the business day a referral became late…) and is the first day its
# condition holds, so the day's window is dropped and the key must come out equal to the row's:
# a logged contact moves the planned day, an answer takes the referral out, a moved meeting moves
# the day before it. What only the passing of time ends (a planned contact that became overdue, a
# meeting that is now today) does not cancel a reminder whose email waited for a digest or a day
# off. The reminders that are due every day (an emergency disclosure to review) yield ``None``
# for the due date: any day's row holds while the condition does.


def _next_contact_due(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    # From the planned day until it counts as overdue; an overdue contact gets the other kind.
    for (days,) in _thresholds("next_contact_overdue_days"):
        cases = _open_cases(targets).filter(
            agency__next_contact_overdue_days=days, next_contact_on__isnull=False
        )
        if today is not None:
            cases = cases.filter(
                next_contact_on__lte=today, next_contact_on__gt=today - timedelta(days=days)
            )
        fields = ["public_id", "next_contact_on", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NEXT_CONTACT_DUE,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["next_contact_on"],
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]


def _next_contact_overdue(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("next_contact_overdue_days"):
        overdue = timedelta(days=days)
        cases = _open_cases(targets).filter(
            agency__next_contact_overdue_days=days, next_contact_on__isnull=False
        )
        if today is not None:
            cases = cases.filter(next_contact_on__lte=today - overdue)
        fields = ["public_id", "next_contact_on", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NEXT_CONTACT_OVERDUE,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["next_contact_on"] + overdue,
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]


def _silent_cases(field: str, days: int, today: Day, targets: set[str] | None):
    """Open cases without a consultation for ``days`` days (counted from the opening when there
    has been none), in agencies whose ``field`` setting is ``days``. A logged contact moves the
    start, so the old reminder's key no longer holds."""
    cases = (
        _open_cases(targets)
        .filter(**{f"agency__{field}": days})
        .annotate(silent_since=Coalesce("last_contact_on", "opened_on"))
    )
    if today is not None:
        cases = cases.filter(silent_since__lte=today - timedelta(days=days))
    return cases


def _no_contact(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("no_contact_days"):
        cases = _silent_cases("no_contact_days", days, today, targets)
        fields = ["public_id", "silent_since", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            yield [
                (
                    Kind.NO_CONTACT_30,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["silent_since"] + timedelta(days=days),
                    r["primary_worker_id"],
                    r["agency_id"],
                )
                for r in rows
            ]


def _no_contact_supervisor(today: Day, batch_size: int, targets: set[str] | None) -> Iterator:
    for (days,) in _thresholds("no_contact_supervisor_days"):
        cases = _silent_cases("no_contact_supervisor_days", days, today, targets)
        fields = ["public_id", "silent_since", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            supervisors = _supervisors(r["agency_id"] for r in rows)
            yield [
                (
                    Kind.NO_CONTACT_60_SUPERVISOR,
                    TargetType.CASE,
                    str(r["public_id"]),
                    r["silent_since"] + timedelta(days=days),
                    user_id,
                    r["agency_id"],
                )
                for r in rows
                for user_id in supervisors.get(r["agency_id"], [])
            ]


def _waited_more_than(threshold: int, closed_year_end: bool, today: date) -> datetime:
    """Things that happened before this moment have waited more than ``threshold`` business
    days today (the queue's rule: age > threshold). Age grows with the start date, so this is
    one range condition on the timestamp, whatever the holidays."""
    start = add_business_days(today + timedelta(days=1), -(threshold + 1), closed_year_end)
    return _start_of(start)


def _referral_unanswered(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A sent referral still not accepted or declined after the receiving agency's number of
    business days (age > threshold, as the queue marks it overdue). Only one the receiver can
    open and answer: an introduction (紹介のみ) sends nothing, so there is nothing to answer."""
    referrals = _only(
        Referral.objects.filter(status=Status.SENT, type__in=NEEDS_CONSENT, sent_at__isnull=False),
        targets,
    )
    for threshold, closed in _thresholds("referral_alert_business_days", "closed_year_end"):
        due = referrals.filter(
            to_agency__referral_alert_business_days=threshold, to_agency__closed_year_end=closed
        )
        if today is not None:
            due = due.filter(sent_at__lt=_waited_more_than(threshold, closed, today))
        for rows in _keyset(due, ["public_id", "sent_at", "to_agency_id"], batch_size):
            supervisors = _supervisors(r["to_agency_id"] for r in rows)
            batch = []
            for r in rows:
                sent_on = timezone.localdate(r["sent_at"])
                due_on = add_business_days(sent_on, threshold + 1, closed)
                batch.extend(
                    (
                        Kind.REFERRAL_UNANSWERED,
                        TargetType.REFERRAL,
                        str(r["public_id"]),
                        due_on,
                        user_id,
                        r["to_agency_id"],
                    )
                    for user_id in supervisors.get(r["to_agency_id"], [])
                )
            yield batch


def _first_contact_unconfirmed(
    today: Day, batch_size: int, targets: set[str] | None
) -> Iterator[list]:
    """An accepted つなぎ or 共同支援 whose 初回面談 is still not recorded after the business days
    of each side's own agency: the receiving agency's assigned worker and the sending worker.
    An introduction has no first interview to confirm: the person makes the contact."""
    referrals = _only(
        Referral.objects.filter(
            type__in=NEEDS_CONSENT,
            status__in=[Status.ACCEPTED, Status.IN_SUPPORT],
            first_contact_on__isnull=True,
            answered_at__isnull=False,
        ),
        targets,
    )
    for worker, agency in (("assignee_id", "to_agency"), ("from_worker_id", "from_agency")):
        for threshold, closed in _thresholds("first_contact_business_days", "closed_year_end"):
            due = referrals.filter(
                **{
                    f"{agency}__first_contact_business_days": threshold,
                    f"{agency}__closed_year_end": closed,
                }
            )
            if today is not None:
                due = due.filter(answered_at__lt=_waited_more_than(threshold, closed, today))
            fields = ["public_id", "answered_at", worker, f"{agency}_id"]
            for rows in _keyset(due, fields, batch_size):
                yield [
                    (
                        Kind.FIRST_CONTACT_UNCONFIRMED,
                        TargetType.REFERRAL,
                        str(r["public_id"]),
                        add_business_days(
                            timezone.localdate(r["answered_at"]), threshold + 1, closed
                        ),
                        r[worker],
                        r[f"{agency}_id"],
                    )
                    for r in rows
                    if r[worker] is not None
                ]


def _plan_review_due(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    for (days,) in _thresholds("plan_review_days_before"):
        before = timedelta(days=days)
        # Reviewed in the days before the date (or after it): the reminder has done its work.
        reviewed = PlanReview.objects.filter(
            plan=OuterRef("pk"),
            reviewed_on__gte=ExpressionWrapper(OuterRef("review_on") - before, DateField()),
        )
        plans = (
            Plan.objects.filter(
                status__in=[PlanStatus.AGREED, PlanStatus.APPROVED],
                case__agency__plan_review_days_before=days,
                review_on__isnull=False,
            )
            .exclude(case__stage=Stage.CLOSED)
            .exclude(Exists(reviewed))
        )
        if today is not None:
            plans = plans.filter(review_on__lte=today + before)
        fields = ["public_id", "review_on", "case__primary_worker_id", "case__agency_id"]
        for rows in _keyset(_only(plans, targets), fields, batch_size):
            yield [
                (
                    Kind.PLAN_REVIEW_DUE,
                    TargetType.PLAN,
                    str(r["public_id"]),
                    r["review_on"] - before,
                    r["case__primary_worker_id"],
                    r["case__agency_id"],
                )
                for r in rows
            ]


def _consent_expiring(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A consent in force that ends within the holding agency's number of days, unless a later
    one for the same agency already carries on (a renewal through ``replaces`` ends this one,
    which also stops it)."""
    renewed = Consent.objects.filter(
        client=OuterRef("client"),
        recipient=OuterRef("recipient"),
        ended_on__isnull=True,
        valid_until__gt=OuterRef("valid_until"),
    )
    for (days,) in _thresholds("consent_expiring_days_before"):
        before = timedelta(days=days)
        consents = Consent.objects.filter(
            ended_on__isnull=True, client__agency__consent_expiring_days_before=days
        ).exclude(Exists(renewed))
        if today is not None:
            consents = consents.filter(valid_until__gte=today, valid_until__lte=today + before)
        fields = ["public_id", "valid_until", "client_id", "client__agency_id"]
        for rows in _keyset(_only(consents, targets), fields, batch_size):
            # The caseworker of the holding agency: the primary worker of the client's open case.
            workers = dict(
                Case.objects.exclude(stage=Stage.CLOSED)
                .filter(client_id__in={r["client_id"] for r in rows})
                .values_list("client_id", "primary_worker_id")
            )
            yield [
                (
                    Kind.CONSENT_EXPIRING,
                    TargetType.CONSENT,
                    str(r["public_id"]),
                    r["valid_until"] - before,
                    workers[r["client_id"]],
                    r["client__agency_id"],
                )
                for r in rows
                if r["client_id"] in workers
            ]


def _emergency_review(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """An emergency disclosure nobody has reviewed: the holding agency's supervisors, at once
    and again every day (the due date is today, so each day is a new reminder) until one of
    them reviews it. Re-checked (``today=None``), every day's row holds until then. Not the
    supervisor who made it: they may not review their own decision
    (``consent.permissions.can_review_emergency``)."""
    disclosures = _only(EmergencyDisclosure.objects.filter(reviewed_at__isnull=True), targets)
    fields = ["public_id", "client__agency_id", "disclosed_by_id"]
    for rows in _keyset(disclosures, fields, batch_size):
        supervisors = _supervisors(r["client__agency_id"] for r in rows)
        yield [
            (
                Kind.EMERGENCY_REVIEW,
                TargetType.EMERGENCY,
                str(r["public_id"]),
                today,
                user_id,
                r["client__agency_id"],
            )
            for r in rows
            for user_id in supervisors.get(r["client__agency_id"], [])
            if user_id != r["disclosed_by_id"]
        ]


def _meeting_tomorrow(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A 支援調整会議 held tomorrow: each participant, in the agency they take part for (the
    host's when they work there, else their own). Due the day before the meeting, so re-checked
    (``today=None``) it holds while the meeting is still on the day after the row's due date
    and the person still takes part: held over a day off, it is still emailed."""
    meetings = Meeting.objects.all()
    if today is not None:
        meetings = meetings.filter(held_on=today + timedelta(days=1))
    meetings = _only(meetings, targets)
    through = Meeting.participant_users.through
    for rows in _keyset(meetings, ["public_id", "agency_id", "held_on"], batch_size):
        participants = list(
            through.objects.filter(meeting_id__in=[r["id"] for r in rows]).values_list(
                "meeting_id", "user_id"
            )
        )
        agencies: dict[int, set[int]] = defaultdict(set)
        for user_id, agency_id in Membership.objects.filter(
            user_id__in={user_id for _m, user_id in participants},
            is_active=True,
            user__is_active=True,
        ).values_list("user_id", "agency_id"):
            agencies[user_id].add(agency_id)
        by_meeting = {r["id"]: r for r in rows}
        batch = []
        for meeting_id, user_id in participants:
            meeting = by_meeting[meeting_id]
            theirs = agencies.get(user_id)
            if not theirs:
                continue  # no active membership: nowhere to show it
            agency_id = meeting["agency_id"] if meeting["agency_id"] in theirs else min(theirs)
            batch.append(
                (
                    Kind.MEETING_TOMORROW,
                    TargetType.MEETING,
                    str(meeting["public_id"]),
                    meeting["held_on"] - timedelta(days=1),
                    user_id,
                    agency_id,
                )
            )
        yield batch


def _visits_without_contact(
    today: Day, batch_size: int, targets: set[str] | None
) -> Iterator[list]:
    """Supporters' visits that reached nobody, the agency's number of times in a row: the
    case's primary caseworker. "In a row" is the client page's rule
    (``cases.selectors.visits_without_contact_in_a_row``), applied to each client's latest
    visits fetched with one window query per batch. The due date is the day of the visit that
    made the run long enough, so a longer run does not remind again, and a visit that reaches
    the person ends it."""
    with_visits = HomeVisit.objects.filter(client=OuterRef("client"))
    for (threshold,) in _thresholds("visits_without_contact"):
        cases = _open_cases(targets).filter(
            Exists(with_visits), agency__visits_without_contact=threshold
        )
        fields = ["public_id", "client_id", "primary_worker_id", "agency_id"]
        for rows in _keyset(cases, fields, batch_size):
            latest: dict[int, list[HomeVisit]] = defaultdict(list)
            visits = (
                HomeVisit.objects.filter(client_id__in={r["client_id"] for r in rows})
                .annotate(
                    position=Window(
                        RowNumber(),
                        partition_by=[F("client_id")],
                        order_by=[F("visited_on").desc(), F("id").desc()],
                    )
                )
                .filter(position__lte=VISIT_HISTORY)
                .only("id", "client_id", "visited_on", "outcome")
                .order_by("client_id", "position")
            )
            for visit in visits:
                latest[visit.client_id].append(visit)
            batch = []
            for r in rows:
                newest_first = latest.get(r["client_id"], [])
                in_a_row = visits_without_contact_in_a_row(newest_first)
                if in_a_row < threshold:
                    continue
                batch.append(
                    (
                        Kind.VISITS_WITHOUT_CONTACT,
                        TargetType.CASE,
                        str(r["public_id"]),
                        newest_first[in_a_row - threshold].visited_on,
                        r["primary_worker_id"],
                        r["agency_id"],
                    )
                )
            yield batch


CONDITIONS: dict[str, Callable[[Day, int, set[str] | None], Iterator[list]]] = {
    Kind.NEXT_CONTACT_DUE: _next_contact_due,
    Kind.NEXT_CONTACT_OVERDUE: _next_contact_overdue,
    Kind.NO_CONTACT_30: _no_contact,
    Kind.NO_CONTACT_60_SUPERVISOR: _no_contact_supervisor,
    Kind.REFERRAL_UNANSWERED: _referral_unanswered,
    Kind.FIRST_CONTACT_UNCONFIRMED: _first_contact_unconfirmed,
    Kind.PLAN_REVIEW_DUE: _plan_review_due,
    Kind.CONSENT_EXPIRING: _consent_expiring,
    Kind.EMERGENCY_REVIEW: _emergency_review,
    Kind.MEETING_TOMORROW: _meeting_tomorrow,
    Kind.VISITS_WITHOUT_CONTACT: _visits_without_contact,
}


# --- Delivery preferences ---------------------------------------------------------------------


def next_delivery(
    *, preference: DeliveryPreference | None, now: datetime, closed_year_end: bool = True
) -> datetime:
    """When a reminder created ``now`` may be emailed to someone with this preference: now, the
    next digest hour, or — with no emails on days off — the hour on the next business day.
    ``closed_year_end`` is the agency's own choice for 年末年始 (the row's agency): staff of an
    agency open on 12/29 are at work then."""
    if preference is None:
        return now
    local = timezone.localtime(now)
    day = local.date()
    at = now
    if preference.delivery == Delivery.DIGEST:
        if local.hour >= preference.hour:
            day += timedelta(days=1)
        at = None
    if preference.quiet_on_days_off and not is_business_day(day, closed_year_end=closed_year_end):
        while not is_business_day(day, closed_year_end=closed_year_end):
            day += timedelta(days=1)
        at = None
    if at is None:
        at = timezone.make_aware(datetime.combine(day, time(preference.hour)))
    return at


def _retry_delivery(
    *, preference: DeliveryPreference | None, at: datetime, closed_year_end: bool
) -> datetime:
    """When a failed email, or one an operator re-queued, may go again at the earliest ``at``:
    the same rule as a new reminder's, except that it is the same email late, not tomorrow's
    digest: it keeps no digest hour, only the days off (held to the hour of the next business
    day)."""
    if preference is not None and preference.delivery == Delivery.DIGEST:
        preference = DeliveryPreference(
            delivery=Delivery.IMMEDIATE,
            hour=preference.hour,
            quiet_on_days_off=preference.quiet_on_days_off,
        )
    return next_delivery(preference=preference, now=at, closed_year_end=closed_year_end)


def _closed_year_end(agency_ids: Iterable[int]) -> dict[int, bool]:
    return dict(Agency.objects.filter(id__in=set(agency_ids)).values_list("id", "closed_year_end"))


def _send_after(keys: list[Key], now: datetime) -> dict[tuple[int, int], datetime]:
    """Each (recipient, agency)'s first moment for an email: two queries for a whole batch (the
    people with their preferences, the agencies' year-end choice). People without an email
    address are done at once (the notification centre is all they get)."""
    closed = _closed_year_end(key[5] for key in keys)
    preferences = {}
    rows = User.objects.filter(id__in={key[4] for key in keys}).values_list(
        "id",
        "email",
        "reminder_preference__delivery",
        "reminder_preference__hour",
        "reminder_preference__quiet_on_days_off",
    )
    for user_id, email, delivery, hour, quiet in rows:
        preference = None
        if email and delivery is not None:
            preference = DeliveryPreference(delivery=delivery, hour=hour, quiet_on_days_off=quiet)
        preferences[user_id] = preference
    return {
        (user_id, agency_id): next_delivery(
            preference=preferences.get(user_id),
            now=now,
            closed_year_end=closed.get(agency_id, True),
        )
        for user_id, agency_id in {(key[4], key[5]) for key in keys}
    }


@transaction.atomic
def delivery_preference_save(
    *, viewer: Viewer, delivery: str, hour: int, quiet_on_days_off: bool
) -> DeliveryPreference:
    """A person sets how their own reminder emails come. Their reminders not yet emailed move
    to the new first moment."""
    user = viewer.user
    if not user.is_authenticated:
        raise PermissionDenied
    errors = {}
    if delivery not in Delivery.values:
        errors["delivery"] = _("Choose how the emails should come.")
    if not 0 <= hour <= 23:
        errors["hour"] = _("Enter an hour from 0 to 23.")
    if errors:
        raise ValidationError(errors)
    preference, _created = DeliveryPreference.objects.select_for_update().get_or_create(user=user)
    before = [preference.delivery, preference.hour, preference.quiet_on_days_off]
    preference.delivery, preference.hour = delivery, hour
    preference.quiet_on_days_off = quiet_on_days_off
    preference.save()
    after = [preference.delivery, preference.hour, preference.quiet_on_days_off]
    if before != after:
        now = timezone.now()
        waiting = Reminder.objects.filter(PENDING, recipient=user, claimed_at=None)
        # One update per agency the person has reminders in (a handful): each keeps its
        # agency's year-end closure.
        agency_ids = waiting.values_list("agency_id", flat=True).distinct().order_by()
        for agency_id, closed in _closed_year_end(agency_ids).items():
            waiting.filter(agency_id=agency_id).update(
                send_after=next_delivery(
                    preference=preference if user.email else None,
                    now=now,
                    closed_year_end=closed,
                )
            )
        audit_record(
            actor=user,
            acting_agency=viewer.agency,
            action="reminders.delivery_changed",
            target=preference,
            changes={"delivery": [before, after]},
        )
    return preference


@transaction.atomic
def agency_reminder_settings_update(
    *, viewer: Viewer, agency: Agency, fields: dict[str, Any]
) -> Agency:
    """An agency's roster admin (or a system admin) sets its reminder thresholds and whether
    the year-end closure counts as closed."""
    if not can_manage_agency(viewer, agency):
        raise PermissionDenied
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    changes = {}
    for name in THRESHOLD_FIELDS:
        if name in fields and getattr(agency, name) != fields[name]:
            changes[name] = [getattr(agency, name), fields[name]]
            setattr(agency, name, fields[name])
    if agency.no_contact_supervisor_days <= agency.no_contact_days:
        raise ValidationError(
            {
                "no_contact_supervisor_days": _(
                    "The supervisors are told after the caseworker: enter more days than for "
                    "the caseworker."
                )
            }
        )
    agency.full_clean(validate_unique=False, validate_constraints=False)
    if changes:
        agency.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=viewer.user,
            acting_agency=viewer.agency,
            action="agency.reminder_settings_updated",
            target=agency,
            changes=changes,
        )
    return agency


# --- The sweep --------------------------------------------------------------------------------

PENDING = Q(sent_at__isnull=True, cancelled_at__isnull=True)
PENDING_FIELDS = ["kind", "target_id", "due_on", "recipient_id"]
# attempts is a small integer: an outage of years must not overflow it.
MAX_ATTEMPTS_COUNTED = 32767


def _grace() -> timedelta:
    return timedelta(seconds=settings.REMINDERS_CLAIM_GRACE_SECONDS)


def _unclaimed(now: datetime) -> Q:
    """Not in flight: never claimed, or claimed by a sender that died (older than the grace)."""
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _grace())


def _sendable(now: datetime) -> Q:
    # No limit on attempts here: a transient failure is retried for as long as it lasts. Only
    # a row given up after permanent refusals waits for an operator.
    return PENDING & _unclaimed(now) & Q(send_after__lte=now, gave_up_at__isnull=True)


def _not_queued_lately(now: datetime) -> Q:
    """Not put on the broker within the grace period: a message for it may still be waiting."""
    return Q(queued_at__isnull=True) | Q(queued_at__lt=now - _grace())


def _gone(rows: Iterable[dict]) -> list[int]:
    """The ids among ``rows`` (pending reminders as dicts of id and PENDING_FIELDS) whose
    condition no longer holds as of each row's own due date. Per kind among them: the kind's
    condition, asked only about these targets (a few queries, whatever the number of rows)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    gone = []
    for kind, kind_rows in by_kind.items():
        targets = {row["target_id"] for row in kind_rows}
        holding = {
            (key[2], key[3], key[4])
            for batch in CONDITIONS[kind](None, len(targets) + 1, targets)
            for key in batch
        }
        gone.extend(
            row["id"]
            for row in kind_rows
            if (row["target_id"], row["due_on"], row["recipient_id"]) not in holding
            # A reminder due every day holds on any day while its condition does.
            and (row["target_id"], None, row["recipient_id"]) not in holding
        )
    return gone


def _cancel_gone(rows: list[dict]) -> int:
    """Cancel the pending rows among ``rows`` whose condition no longer holds."""
    gone = _gone(rows)
    if not gone:
        return 0
    # Conditional: a row a live sender holds is left to it (it re-checks before sending).
    now = timezone.now()
    return Reminder.objects.filter(PENDING & _unclaimed(now), id__in=gone).update(cancelled_at=now)


def reminders_cancel_gone(*, batch_size: int = 1000) -> int:
    """Cancel every pending (unsent) reminder whose condition has gone. Returns how many."""
    cancelled = 0
    for rows in _keyset(Reminder.objects.filter(PENDING), PENDING_FIELDS, batch_size):
        cancelled += _cancel_gone(rows)
    return cancelled


def reminders_sweep(
    *, today: date | None = None, batch_size: int = 1000, now: datetime | None = None
) -> int:
    """Cancel pending reminders whose condition has gone, then create the due ones. Safe to run
    twice or twice at once: the unique key of the live rows drops the second insert. Returns
    how many rows this sweep created."""
    # One timestamp for the sweep: the rows it inserted are the ones that carry it.
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    reminders_cancel_gone(batch_size=batch_size)
    created = 0
    for kind, condition in CONDITIONS.items():
        for batch in condition(today, batch_size, None):
            if not batch:
                continue
            send_after = _send_after(batch, now)
            Reminder.objects.bulk_create(
                [
                    Reminder(
                        kind=key[0],
                        target_type=key[1],
                        target_id=key[2],
                        due_on=key[3],
                        recipient_id=key[4],
                        agency_id=key[5],
                        created_at=now,
                        send_after=send_after.get((key[4], key[5]), now),
                    )
                    for key in batch
                ],
                ignore_conflicts=True,
            )
            created += Reminder.objects.filter(
                kind=kind, target_id__in={key[2] for key in batch}, created_at=now
            ).count()
    return created


def _queue_chunks(rows: QuerySet[Reminder], size: int, now: datetime) -> Iterator[list[int]]:
    """Ids in chunks that keep a recipient's rows together (so they get one email), read with
    a server-side cursor: constant memory however many are pending. Each chunk is marked queued
    before it is handed out, and rows queued within the grace period are left out: a sweep every
    five minutes and a reconciler every minute put each row on the broker once, not once per run.
    (Two runs at the very same moment may both hand out a row: the claim still sends it once.)"""
    rows = rows.filter(_not_queued_lately(now))
    chunk: list[int] = []
    last_recipient = None
    ordered = rows.order_by("recipient_id", "id").values_list("recipient_id", "id")

    def queued(ids: list[int]) -> list[int]:
        Reminder.objects.filter(id__in=ids).update(queued_at=now)
        return ids

    for recipient_id, reminder_id in ordered.iterator(chunk_size=2000):
        if len(chunk) >= size and recipient_id != last_recipient:
            yield queued(chunk)
            chunk = []
        chunk.append(reminder_id)
        last_recipient = recipient_id
    if chunk:
        yield queued(chunk)


def reminder_pending_id_chunks(*, size: int = 500) -> Iterator[list[int]]:
    """The ids of every reminder that may be sent now and is not already on the broker, marked
    queued: the caller puts each chunk on the broker."""
    now = timezone.now()
    return _queue_chunks(Reminder.objects.filter(_sendable(now)), size, now)


def reminder_late_id_chunks(*, size: int = 500) -> Iterator[list[int]]:
    """The reconciler's work: reminders that could have been sent a grace period ago and were
    not — their message was lost (a broker restart) or their sender died after claiming them
    (kill -9). Rows a live sender holds, rows waiting for a digest or a retry, and rows put on
    the broker within the grace period are not. Marked queued, as above."""
    now = timezone.now()
    late = Reminder.objects.filter(_sendable(now), send_after__lt=now - _grace())
    return _queue_chunks(late, size, now)


@transaction.atomic
def reminders_requeue_given_up(*, actor: User, ids: Iterable[int]) -> int:
    """A system admin sends the given-up reminders among ``ids`` again (the server's refusal
    has been dealt with: a mailbox fixed, an address corrected). Each gets its tries back and
    goes at once, or at the next business day for someone who wants no emails on days off.
    Audited; the messages leave after commit. Returns how many."""
    if not is_system_admin(actor):
        raise PermissionDenied
    now = timezone.now()
    rows = list(
        Reminder.objects.select_for_update(of=("self",))
        .filter(PENDING, id__in=list(ids), gave_up_at__isnull=False)
        .select_related("agency", "recipient__reminder_preference")
        .order_by("recipient_id", "id")
    )
    if not rows:
        return 0
    for row in rows:
        row.gave_up_at = row.failed_at = row.claimed_at = None
        row.attempts = 0
        row.queued_at = now
        row.send_after = _retry_delivery(
            preference=_preference_of(row.recipient),
            at=now,
            closed_year_end=row.agency.closed_year_end,
        )
    fields = ["gave_up_at", "failed_at", "claimed_at", "attempts", "queued_at", "send_after"]
    Reminder.objects.bulk_update(rows, fields)
    audit_record(
        actor=actor,
        action="reminders.requeued",
        target=ContentType.objects.get_for_model(Reminder),
        changes={"requeued": [None, sorted(str(row.public_id) for row in rows)]},
    )
    ready = [row.id for row in rows if row.send_after <= now]
    if ready:
        from .tasks import send_due  # tasks import this module

        transaction.on_commit(lambda: send_due.delay(ready))
    # A row held to the next business day is picked up by the sweep when its moment comes.
    return len(rows)


# --- Sending ----------------------------------------------------------------------------------


def reminder_claim_unsent(
    limit: int, *, ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[Reminder]:
    """Claim up to ``limit`` sendable reminders (only among ``ids`` when given) for this sender.

    Rows another sender holds are skipped, not waited for; the conditional update is what makes
    the claim safe even where FOR UPDATE is a no-op (SQLite): a row in flight is not claimed
    again until its claim is older than the grace period. ``claimed_at`` is this claim's token.
    The rows come with their recipient, the recipient's delivery preference and the agency (one
    query): what the email, a re-check and a retry's moment need.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = Reminder.objects.select_for_update(skip_locked=True).filter(_sendable(now))
        if ids is not None:
            pending = pending.filter(id__in=list(ids))
        locked = list(pending.order_by("id").values_list("id", flat=True)[:limit])
        if not locked:
            return []
        Reminder.objects.filter(_sendable(now), id__in=locked).update(
            claimed_at=now, attempts=Least(F("attempts") + 1, MAX_ATTEMPTS_COUNTED)
        )
    return list(
        Reminder.objects.filter(id__in=locked, claimed_at=now, sent_at=None)
        .select_related("recipient__reminder_preference", "agency")
        .order_by("recipient_id", "id")
    )


def reminder_email(*, recipient: Any, reminders: list[Reminder]) -> EmailMessage:
    """The email for one person: which kinds, how many, and a link. No names, no case details:
    nothing the consent gate would hide. Built from the kinds' labels and counts only."""
    counts: dict[str, int] = defaultdict(int)
    for reminder in reminders:
        counts[reminder.kind] += 1
    labels = dict(Kind.choices)
    with translation.override(settings.LANGUAGE_CODE):
        total = len(reminders)
        subject = ngettext(
            "Tsunagu: %(count)d new reminder", "Tsunagu: %(count)d new reminders", total
        ) % {"count": total}
        lines = [f"- {labels[kind]}: {count}" for kind, count in sorted(counts.items())]
        body = _(
            "You have new reminders in Tsunagu:\n\n%(lines)s\n\n"
            "Open the notification centre to see them:\n%(link)s\n"
        ) % {
            "lines": "\n".join(lines),
            "link": settings.BASE_URL.rstrip("/") + reverse("reminders:list"),
        }
    return EmailMessage(subject=subject, body=body, to=[recipient.email])


@dataclass(frozen=True)
class SendResult:
    sent: int
    # The rows whose email failed and that will be tried again (after ``retry_in`` seconds).
    failed_ids: list[int]
    retry_in: int = 0
    # The rows refused for good REMINDERS_SEND_MAX_ATTEMPTS times: not tried again.
    gave_up_ids: list[int] = field(default_factory=list)
    cancelled: int = 0


def _backoff(attempts: int) -> int:
    """Seconds before the next try: doubling from the base, capped (below the broker's
    visibility timeout, so a waiting retry is never delivered twice by the broker)."""
    base = settings.REMINDERS_RETRY_BACKOFF_SECONDS
    doublings = min(max(attempts - 1, 0), 30)  # past the cap long before; keeps the number small
    return min(base * 2**doublings, settings.REMINDERS_RETRY_BACKOFF_MAX_SECONDS)


def _is_permanent(error: Exception) -> bool:
    """The server refused this email for good: a 5xx for every recipient, or for the data.
    Everything else — refused or reset connections, timeouts, a dropped session, a 4xx ("try
    again later"), a login or TLS trouble an operator will fix — is transient and retried
    for as long as it lasts."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _preference_of(user: Any) -> DeliveryPreference | None:
    if not user.email:
        return None
    try:
        return user.reminder_preference
    except DeliveryPreference.DoesNotExist:
        return None


def _mark_sent(row_ids: list[int], token: datetime) -> int:
    # Only where this sender's claim still stands: nothing is marked for another sender.
    return Reminder.objects.filter(id__in=row_ids, claimed_at=token, sent_at=None).update(
        sent_at=timezone.now()
    )


def _cancel_claimed(rows: list[Reminder], token: datetime) -> set[int]:
    """Re-check the condition of the rows this sender has just claimed, right before their
    email, and cancel those whose condition has gone (under the claim). Returns their ids."""
    gone = set(
        _gone(
            {
                "id": row.id,
                "kind": row.kind,
                "target_id": row.target_id,
                "due_on": row.due_on,
                "recipient_id": row.recipient_id,
            }
            for row in rows
        )
    )
    if gone:
        Reminder.objects.filter(id__in=gone, claimed_at=token, sent_at=None).update(
            cancelled_at=timezone.now()
        )
    return gone


def _give_back(
    rows: list[Reminder], token: datetime, error: Exception, failed_at: datetime
) -> int | None:
    """A failed email's rows go back with the error: retried after their backoff (held over
    the recipient's days off), or given up after the last try of a permanent refusal. Returns
    the seconds until the task's own retry, or None when given up."""
    attempts = max(row.attempts for row in rows)
    message = f"{type(error).__name__}: {error}"[:2000]
    claimed = Reminder.objects.filter(
        id__in=[row.id for row in rows], claimed_at=token, sent_at=None
    )
    if _is_permanent(error) and attempts >= settings.REMINDERS_SEND_MAX_ATTEMPTS:
        claimed.update(claimed_at=None, failed_at=failed_at, error=message, gave_up_at=failed_at)
        return None
    delay = _backoff(attempts)
    retry = failed_at + timedelta(seconds=delay)
    preference = _preference_of(rows[0].recipient)
    by_agency: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for row in rows:
        by_agency[row.agency_id, row.agency.closed_year_end].append(row.id)
    for (_agency_id, closed), row_ids in by_agency.items():
        # queued_at: the task's own retry (after ``delay``) is these rows' message; the sweep
        # and the reconciler leave them to it for a grace period from then. A retry that falls
        # on a day off finds nothing to send; the sweep queues the rows when their day comes.
        claimed.filter(id__in=row_ids).update(
            claimed_at=None,
            failed_at=failed_at,
            error=message,
            send_after=_retry_delivery(preference=preference, at=retry, closed_year_end=closed),
            queued_at=retry,
        )
    return delay


def reminders_send_due(*, ids: list[int], now: datetime | None = None) -> SendResult:
    """Send the still-unsent reminders among ``ids``: one email per recipient.

    One recipient at a time: claim their rows, re-check each row's condition (it may have gone
    since the sweep, or since this batch began) and cancel the gone ones under the claim, send
    the rest, mark them sent. Claiming per email keeps each claim as short as one SMTP exchange,
    so the grace period after which a claim counts as abandoned only has to outlast that,
    however long the batch. A failed email gives its rows back with the error and a backoff
    (``send_after``), so a retry — or the reconciler, if the retry's message is lost — claims
    them again; a row marked sent is never claimed again. ``now`` is for tests (a fixed clock).
    """

    def clock() -> datetime:
        return now or timezone.now()

    pending = Reminder.objects.filter(_sendable(clock()), id__in=ids)
    by_recipient: dict[int, list[int]] = defaultdict(list)
    for reminder_id, recipient_id in pending.values_list("id", "recipient_id").order_by("id"):
        by_recipient[recipient_id].append(reminder_id)
    sent, cancelled, failed_ids, gave_up_ids, retry_in = 0, 0, [], [], 0
    # One SMTP connection for the batch, opened at the first email and again after a failure.
    connection = None
    for recipient_ids in by_recipient.values():
        token = clock()
        rows = reminder_claim_unsent(len(recipient_ids), ids=recipient_ids, now=token)
        if not rows:
            continue  # another sender has them, or they were sent or cancelled meanwhile
        gone = _cancel_claimed(rows, token)
        cancelled += len(gone)
        rows = [row for row in rows if row.id not in gone]
        if not rows:
            continue
        recipient = rows[0].recipient
        row_ids = [row.id for row in rows]
        if not recipient.email or not recipient.is_active:
            sent += _mark_sent(row_ids, token)  # in-app only: the notification centre shows it
            continue
        try:
            if connection is None:
                connection = mailers.default
                connection.open()
            connection.send_messages([reminder_email(recipient=recipient, reminders=rows)])
        except Exception as error:  # any mail failure is recorded and retried, never lost
            logger.warning("reminder email to user %s failed: %s", recipient.pk, error)
            _close_quietly(connection)
            connection = None
            delay = _give_back(rows, token, error, clock())
            if delay is None:
                gave_up_ids.extend(row_ids)
            else:
                failed_ids.extend(row_ids)
                retry_in = max(retry_in, delay)
        else:
            sent += _mark_sent(row_ids, token)
    _close_quietly(connection)
    return SendResult(
        sent=sent,
        failed_ids=failed_ids,
        retry_in=retry_in,
        gave_up_ids=gave_up_ids,
        cancelled=cancelled,
    )


def _close_quietly(connection) -> None:
    # A broken connection is dropped; its rows are already given back or marked.
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()


# --- The notification centre ------------------------------------------------------------------


def reminder_mark_read(*, viewer: Viewer, reminder: Reminder) -> Reminder:
    """Mark one of the viewer's own reminders read (the selector already 404s anyone else's)."""
    if reminder.recipient_id != viewer.user.pk:
        raise PermissionDenied
    now = timezone.now()
    Reminder.objects.filter(pk=reminder.pk, read_at=None).update(read_at=now)
    reminder.read_at = reminder.read_at or now
    return reminder


def reminders_mark_all_read(*, viewer: Viewer) -> int:
    return reminder_scope(viewer=viewer).filter(read_at=None).update(read_at=timezone.now())
