"""Thin tasks: they carry ids, call one service, and are safe to run twice.

acks_late and reject_on_worker_lost are global settings (config/settings.py): a task lost with
its worker runs again, which is harmless because the rows are claimed with a conditional update.
"""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from .services import reminder_pending_id_chunks, reminders_send_due, reminders_sweep


@shared_task
def sweep() -> int:
    """Create the due reminders, then hand every unsent one to ``send_due``.

    Enqueuing all pending rows (not only the new ones) also re-queues rows a lost or failed
    send left behind: the database says what is still to be sent, the message is a nudge.
    """
    created = reminders_sweep()
    for ids in reminder_pending_id_chunks():
        transaction.on_commit(lambda ids=ids: send_due.delay(ids))
    return created


@shared_task(bind=True, max_retries=settings.REMINDERS_SEND_MAX_RETRIES)
def send_due(self, reminder_ids: list[int]) -> int:
    result = reminders_send_due(ids=reminder_ids)
    if result.failed_ids:
        # Only the rows whose email failed, after a growing pause (SMTP may be down a while).
        countdown = settings.REMINDERS_RETRY_BACKOFF_SECONDS * 2**self.request.retries
        raise self.retry(args=[result.failed_ids], countdown=countdown)
    return result.sent
