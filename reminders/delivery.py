"""Sending reminders: who may be emailed when (a person's delivery preference), the states of a
pending row (claimed, sendable), and the sender that claims a person's rows, re-checks them,
sends one email and marks them sent, or gives them back to be tried again.

Sending has three steps, each a conditional update: claim (``SELECT … FOR UPDATE SKIP LOCKED``,
then ``claimed_at``), send the email, then ``sent_at`` only where this sender's claim still
stands. A sender killed between claim and ``sent_at`` leaves the row in flight; once the claim
is older than the grace period another sender may claim it again, and the reconciler
(``sweep.reminder_late_id_chunks``) re-queues it, so no email is lost. The only window for a
second copy is the moment between the SMTP server's "250 OK" and the ``sent_at`` commit:
exactly once across SMTP cannot be had, and the claim per email keeps that window to one
exchange. Right after claiming a person's rows, the sender checks each row's condition again
(as of its own due date): a contact logged or a referral answered since the sweep stops the
reminder.

A failed email is retried with a doubling, capped backoff, for as long as the failure is
transient (the server down, a timeout, a 4xx): "SMTP down" is delivered when it comes back. Only
a permanent refusal (a 5xx for the recipient or the data) stops, after
REMINDERS_SEND_MAX_ATTEMPTS tries; the row then shows as given up in the operators' queue, with
the error, until a system admin re-queues it (``services.reminders_requeue_given_up``).
"""

import contextlib
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from agencies.models import Agency
from core.business_days import is_business_day

from .conditions import _gone
from .conditions._common import Key
from .models import Delivery, DeliveryPreference, Kind, Reminder

logger = logging.getLogger(__name__)

# --- The states of a pending row --------------------------------------------------------------

PENDING = Q(sent_at__isnull=True, cancelled_at__isnull=True)
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


def _preference_of(user: Any) -> DeliveryPreference | None:
    if not user.email:
        return None
    try:
        return user.reminder_preference
    except DeliveryPreference.DoesNotExist:
        return None


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
