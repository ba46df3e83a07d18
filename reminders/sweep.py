"""The sweep: the periodic job that cancels the reminders whose condition has gone, creates the
due ones from the conditions (``reminders.conditions``), and hands the sendable rows to the
broker; and the reconciler's list of rows left unsent.

The database is the truth. The sweep walks each condition in keyset batches (constant memory)
and inserts rows with ``ON CONFLICT DO NOTHING`` against the unique key (kind, target, due date,
recipient) of the live rows, so running it twice, or two sweeps at once, creates each reminder
once; a cancelled row does not block the same reminder when its condition comes back. Before it
creates anything it cancels pending rows whose condition has gone, and the sender checks each
person's rows again right after claiming them, before their email (``delivery``): a contact
logged or a referral answered in between stops the reminder. Each row is checked as of its own
due date (a meeting tomorrow is still tomorrow from the day it was due), not as of today, so a
reminder held for a digest or over a day off is still emailed.
"""

from collections.abc import Iterator
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from .conditions import CONDITIONS, _gone
from .conditions._common import _keyset
from .delivery import PENDING, _grace, _send_after, _sendable, _unclaimed
from .models import Reminder

PENDING_FIELDS = ["kind", "target_id", "due_on", "recipient_id"]


def _not_queued_lately(now: datetime) -> Q:
    """Not put on the broker within the grace period: a message for it may still be waiting."""
    return Q(queued_at__isnull=True) | Q(queued_at__lt=now - _grace())


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
