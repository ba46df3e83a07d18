"""Thin tasks: they carry ids, call the sweep (``reminders.sweep``) or the sender
(``reminders.delivery``), and are safe to run twice.

acks_late and reject_on_worker_lost are global settings (config/settings.py): a task lost with
its worker runs again, which is harmless because the rows are claimed with a conditional update.
A message lost with the broker (a Redis restart) is made good by ``reconcile``: the database
says what is still to be sent, a message is only a nudge.
"""

from celery import shared_task

from .delivery import reminders_send_due
from .sweep import reminder_late_id_chunks, reminder_pending_id_chunks, reminders_sweep


@shared_task
def sweep() -> int:
    """Create the due reminders, then hand every sendable one to ``send_due``.

    Enqueuing all sendable rows (not only the new ones) also picks up digests whose hour has
    come and rows held over a day off; rows already on the broker within the grace period
    (a retry waiting, a message from the last run) are not queued again.
    """
    created = reminders_sweep()
    for ids in reminder_pending_id_chunks():
        send_due.delay(ids)
    return created


# A transient failure (SMTP down) is retried for as long as it lasts, at the capped backoff;
# rows refused for good REMINDERS_SEND_MAX_ATTEMPTS times are given up (not in failed_ids), so
# the task stops once nothing it can still send is left.
@shared_task(bind=True, max_retries=None)
def send_due(self, reminder_ids: list[int]) -> int:
    result = reminders_send_due(ids=reminder_ids)
    if result.failed_ids:
        # Only the rows whose email failed, after their backoff (SMTP may be down a while).
        raise self.retry(args=[result.failed_ids], countdown=result.retry_in)
    return result.sent


@shared_task
def reconcile() -> int:
    """Re-queue the reminders left unsent a grace period after they were due to go (and not
    queued within it)."""
    queued = 0
    for ids in reminder_late_id_chunks():
        send_due.delay(ids)
        queued += len(ids)
    return queued
