"""The Celery app and every periodic job, declared in one place.

The broker only carries nudges; the database row is the truth, so every task re-reads its rows
and claims its work with a conditional update. Exactly one beat runs these: the ``beat``
service in production, ``worker -B`` in the embedded default.
"""

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tsunagu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _reconcile_every() -> timedelta:
    from django.conf import settings

    return timedelta(seconds=settings.REMINDERS_RECONCILE_SECONDS)


app.conf.beat_schedule = {
    # Every day at 03:30 Asia/Tokyo: drop expired sessions so the table does not grow forever.
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    # */5 * * * *  Every five minutes: find due reminders, create their rows, send the sendable
    # (digests go out within five minutes of their hour).
    "reminders-sweep": {
        "task": "reminders.tasks.sweep",
        "schedule": crontab(minute="*/5"),
    },
    # Every REMINDERS_RECONCILE_SECONDS (a minute by default): re-queue reminders left unsent a
    # grace period after they were due — a message lost with the broker, a sender killed
    # between claiming and sending.
    "reminders-reconcile": {
        "task": "reminders.tasks.reconcile",
        "schedule": _reconcile_every(),
    },
}


@worker_ready.connect
def _sweep_at_start(sender, **kwargs) -> None:
    """With REMINDERS_SWEEP_ON_WORKER_START (the demo), sweep as soon as the worker is up
    instead of at the next five-minute mark, so reminders arrive within a minute of start."""
    from django.conf import settings

    if settings.REMINDERS_SWEEP_ON_WORKER_START:
        sender.app.send_task("reminders.tasks.sweep")
