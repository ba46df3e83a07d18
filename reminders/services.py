"""Writes of the reminders app: the sweep that finds due conditions, and the sender.

The database is the truth. The sweep walks each condition in keyset batches (constant memory)
and inserts rows with ``ON CONFLICT DO NOTHING`` against the unique key (kind, target, due date,
recipient), so running it twice, or two sweeps at once, creates each reminder once. Before it
creates anything it cancels pending rows whose condition has gone, and the sender checks again
right before sending: a contact logged or a referral answered in between stops the reminder.

The sender claims rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and a conditional update of
``sent_at`` in one transaction, before the email leaves: a retry or a second worker finds
nothing left to claim, so nothing is sent twice.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DateField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agencies.models import Agency, Membership, Role
from agencies.permissions import Viewer
from cases.models import Case, Plan, PlanReview, PlanStatus, Stage
from consent.models import Consent
from core.business_days import add_business_days
from referrals.models import Referral, Status
from referrals.queue_selectors import sent_before_for_age

from .models import Kind, Reminder, TargetType
from .selectors import reminder_scope

logger = logging.getLogger(__name__)

# The thresholds of the conditions (issue 8's defaults). The referral one is the receiving
# agency's own setting (Agency.referral_alert_business_days), which the queue uses too.
NEXT_CONTACT_OVERDUE_DAYS = 3
NO_CONTACT_DAYS = 30
NO_CONTACT_SUPERVISOR_DAYS = 60
PLAN_REVIEW_DAYS_BEFORE = 7
CONSENT_EXPIRING_DAYS_BEFORE = 14

# (kind, target_type, target_id, due_on, recipient_id, agency_id)
Key = tuple[str, str, str, date, int, int]


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
        last_id = rows[-1]["id"]


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


# --- The seven conditions ---------------------------------------------------------------------
# Each yields batches of keys of the reminders whose condition holds today, optionally only for
# the given targets (public ids): the sweep creates from them, and the re-check before sending
# asks the very same function whether a pending row still holds.


def _next_contact_due(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    # From the planned day until it counts as overdue; an overdue contact gets the other kind.
    cases = _open_cases(targets).filter(
        next_contact_on__lte=today,
        next_contact_on__gt=today - timedelta(days=NEXT_CONTACT_OVERDUE_DAYS),
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


def _next_contact_overdue(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    overdue = timedelta(days=NEXT_CONTACT_OVERDUE_DAYS)
    cases = _open_cases(targets).filter(next_contact_on__lte=today - overdue)
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


def _silent_cases(days: int, today: date, targets: set[str] | None) -> QuerySet[Case]:
    """Open cases without a consultation for ``days`` days (counted from the opening when there
    has been none). A logged contact moves the start, so the old reminder's key no longer
    holds."""
    return (
        _open_cases(targets)
        .annotate(silent_since=Coalesce("last_contact_on", "opened_on"))
        .filter(silent_since__lte=today - timedelta(days=days))
    )


def _no_contact_30(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    cases = _silent_cases(NO_CONTACT_DAYS, today, targets)
    fields = ["public_id", "silent_since", "primary_worker_id", "agency_id"]
    for rows in _keyset(cases, fields, batch_size):
        yield [
            (
                Kind.NO_CONTACT_30,
                TargetType.CASE,
                str(r["public_id"]),
                r["silent_since"] + timedelta(days=NO_CONTACT_DAYS),
                r["primary_worker_id"],
                r["agency_id"],
            )
            for r in rows
        ]


def _no_contact_60_supervisor(
    today: date, batch_size: int, targets: set[str] | None
) -> Iterator[list]:
    cases = _silent_cases(NO_CONTACT_SUPERVISOR_DAYS, today, targets)
    fields = ["public_id", "silent_since", "agency_id"]
    for rows in _keyset(cases, fields, batch_size):
        supervisors = _supervisors(r["agency_id"] for r in rows)
        yield [
            (
                Kind.NO_CONTACT_60_SUPERVISOR,
                TargetType.CASE,
                str(r["public_id"]),
                r["silent_since"] + timedelta(days=NO_CONTACT_SUPERVISOR_DAYS),
                user_id,
                r["agency_id"],
            )
            for r in rows
            for user_id in supervisors.get(r["agency_id"], [])
        ]


def _referral_unanswered(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A sent referral still not accepted or declined after the receiving agency's number of
    business days (age > threshold, as the queue marks it overdue)."""
    referrals = Referral.objects.filter(status=Status.SENT)
    if targets is not None:
        referrals = referrals.filter(public_id__in=targets)
    # One range condition on sent_at per distinct threshold (a handful), as the queue does.
    thresholds = (
        Agency.objects.filter(referrals_received__in=referrals)
        .values_list("referral_alert_business_days", flat=True)
        .distinct()
        .order_by()
    )
    for threshold in list(thresholds):
        due = referrals.filter(
            to_agency__referral_alert_business_days=threshold,
            sent_at__lt=sent_before_for_age(threshold + 1, today=today),
        )
        for rows in _keyset(due, ["public_id", "sent_at", "to_agency_id"], batch_size):
            supervisors = _supervisors(r["to_agency_id"] for r in rows)
            batch = []
            for r in rows:
                due_on = add_business_days(timezone.localdate(r["sent_at"]), threshold + 1)
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


def _plan_review_due(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    before = timedelta(days=PLAN_REVIEW_DAYS_BEFORE)
    # Reviewed in the week before the date (or after it): the reminder has done its work.
    reviewed = PlanReview.objects.filter(
        plan=OuterRef("pk"),
        reviewed_on__gte=ExpressionWrapper(OuterRef("review_on") - before, DateField()),
    )
    plans = (
        Plan.objects.filter(
            status__in=[PlanStatus.AGREED, PlanStatus.APPROVED],
            review_on__lte=today + before,
        )
        .exclude(case__stage=Stage.CLOSED)
        .exclude(Exists(reviewed))
    )
    if targets is not None:
        plans = plans.filter(public_id__in=targets)
    fields = ["public_id", "review_on", "case__primary_worker_id", "case__agency_id"]
    for rows in _keyset(plans, fields, batch_size):
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


def _consent_expiring(today: date, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A consent in force that ends within 14 days, unless a later one for the same agency
    already carries on (a renewal through ``replaces`` ends this one, which also stops it)."""
    before = timedelta(days=CONSENT_EXPIRING_DAYS_BEFORE)
    renewed = Consent.objects.filter(
        client=OuterRef("client"),
        recipient=OuterRef("recipient"),
        ended_on__isnull=True,
        valid_until__gt=OuterRef("valid_until"),
    )
    consents = Consent.objects.filter(
        ended_on__isnull=True, valid_until__gte=today, valid_until__lte=today + before
    ).exclude(Exists(renewed))
    if targets is not None:
        consents = consents.filter(public_id__in=targets)
    fields = ["public_id", "valid_until", "client_id", "client__agency_id"]
    for rows in _keyset(consents, fields, batch_size):
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


CONDITIONS: dict[str, Callable[[date, int, set[str] | None], Iterator[list]]] = {
    Kind.NEXT_CONTACT_DUE: _next_contact_due,
    Kind.NEXT_CONTACT_OVERDUE: _next_contact_overdue,
    Kind.NO_CONTACT_30: _no_contact_30,
    Kind.NO_CONTACT_60_SUPERVISOR: _no_contact_60_supervisor,
    Kind.REFERRAL_UNANSWERED: _referral_unanswered,
    Kind.PLAN_REVIEW_DUE: _plan_review_due,
    Kind.CONSENT_EXPIRING: _consent_expiring,
}


# --- The sweep --------------------------------------------------------------------------------


def _cancel_gone(rows: list[dict], today: date) -> int:
    """Cancel the pending rows among ``rows`` whose condition no longer holds."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    gone = []
    for kind, kind_rows in by_kind.items():
        targets = {row["target_id"] for row in kind_rows}
        holding = {
            (key[2], key[3], key[4])
            for batch in CONDITIONS[kind](today, len(targets) + 1, targets)
            for key in batch
        }
        gone.extend(
            row["id"]
            for row in kind_rows
            if (row["target_id"], row["due_on"], row["recipient_id"]) not in holding
        )
    if not gone:
        return 0
    # Conditional: a row a sender claimed in the meantime is left as it is.
    return Reminder.objects.filter(id__in=gone, sent_at=None, cancelled_at=None).update(
        cancelled_at=timezone.now()
    )


PENDING = Q(sent_at__isnull=True, cancelled_at__isnull=True)
PENDING_FIELDS = ["kind", "target_id", "due_on", "recipient_id"]


def reminders_cancel_gone(*, today: date | None = None, batch_size: int = 1000) -> int:
    """Cancel every pending (unsent) reminder whose condition has gone. Returns how many."""
    today = today or timezone.localdate()
    cancelled = 0
    for rows in _keyset(Reminder.objects.filter(PENDING), PENDING_FIELDS, batch_size):
        cancelled += _cancel_gone(rows, today)
    return cancelled


def reminders_sweep(*, today: date | None = None, batch_size: int = 1000) -> int:
    """Cancel pending reminders whose condition has gone, then create the due ones. Safe to run
    twice or twice at once: the unique key drops the second insert. Returns how many rows this
    sweep created."""
    today = today or timezone.localdate()
    reminders_cancel_gone(today=today, batch_size=batch_size)
    # One timestamp for the sweep: the rows it inserted are the ones that carry it.
    now = timezone.now()
    created = 0
    for kind, condition in CONDITIONS.items():
        for batch in condition(today, batch_size, None):
            if not batch:
                continue
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
                    )
                    for key in batch
                ],
                ignore_conflicts=True,
            )
            created += Reminder.objects.filter(
                kind=kind, target_id__in={key[2] for key in batch}, created_at=now
            ).count()
    return created


def reminder_pending_id_chunks(*, size: int = 500) -> Iterator[list[int]]:
    """The ids of every unsent, uncancelled reminder, in chunks that keep a recipient's rows
    together (so they get one email), read with a server-side cursor."""
    chunk: list[int] = []
    last_recipient = None
    rows = (
        Reminder.objects.filter(PENDING)
        .order_by("recipient_id", "id")
        .values_list("recipient_id", "id")
        .iterator(chunk_size=2000)
    )
    for recipient_id, reminder_id in rows:
        if len(chunk) >= size and recipient_id != last_recipient:
            yield chunk
            chunk = []
        chunk.append(reminder_id)
        last_recipient = recipient_id
    if chunk:
        yield chunk


# --- Sending ----------------------------------------------------------------------------------


def reminder_claim_unsent(limit: int, *, ids: Iterable[int] | None = None) -> list[Reminder]:
    """Claim up to ``limit`` unsent reminders (only among ``ids`` when given) for this sender.

    Rows another sender holds are skipped, not waited for; the conditional update is what makes
    the claim safe even where FOR UPDATE is a no-op (SQLite): a row already marked is not
    claimed again.
    """
    with transaction.atomic():
        pending = Reminder.objects.select_for_update(skip_locked=True).filter(PENDING)
        if ids is not None:
            pending = pending.filter(id__in=list(ids))
        locked = list(pending.order_by("id").values_list("id", flat=True)[:limit])
        if not locked:
            return []
        now = timezone.now()
        Reminder.objects.filter(id__in=locked).filter(PENDING).update(
            sent_at=now, attempts=F("attempts") + 1
        )
        return list(
            Reminder.objects.filter(id__in=locked, sent_at=now)
            .select_related("recipient")
            .order_by("recipient_id", "id")
        )


def reminder_email(*, recipient: Any, reminders: list[Reminder]) -> EmailMessage:
    """The email for one person: which kinds, how many, and a link. No names, no case details:
    nothing the consent gate would hide."""
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
    failed_ids: list[int]


def reminders_send_due(*, ids: list[int], today: date | None = None) -> SendResult:
    """Send the still-unsent reminders among ``ids``: one email per recipient.

    Re-checks each condition first (it may have gone since the sweep), claims the rows, then
    sends. A failed email puts its rows back (sent_at cleared, the error kept) so a retry can
    claim them again; nothing sent is ever claimed twice.
    """
    today = today or timezone.localdate()
    pending = list(Reminder.objects.filter(PENDING, id__in=ids).values("id", *PENDING_FIELDS))
    _cancel_gone(pending, today)
    claimed = reminder_claim_unsent(len(ids), ids=ids)
    by_recipient: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in claimed:
        by_recipient[reminder.recipient_id].append(reminder)
    sent, failed_ids = 0, []
    for rows in by_recipient.values():
        recipient = rows[0].recipient
        if not recipient.email:
            continue  # in-app only: the notification centre shows it
        try:
            reminder_email(recipient=recipient, reminders=rows).send()
        except Exception as error:  # any mail failure is retried, never lost
            row_ids = [row.id for row in rows]
            logger.warning("reminder email to user %s failed: %s", recipient.pk, error)
            Reminder.objects.filter(id__in=row_ids, sent_at=rows[0].sent_at).update(
                sent_at=None, failed_at=timezone.now(), error=str(error)[:2000]
            )
            failed_ids.extend(row_ids)
        else:
            sent += len(rows)
    return SendResult(sent=sent, failed_ids=failed_ids)


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
