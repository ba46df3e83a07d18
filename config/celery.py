"""The Celery app and every periodic job, declared in one place.

The broker only carries nudges; the database row is the truth, so every task re-reads its rows
and claims its work with a conditional update.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tsunagu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every day at 03:30 Asia/Tokyo: drop expired sessions so the table does not grow forever.
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    # */5 * * * *  Every five minutes: find due reminders, create their rows, send the unsent.
    "reminders-sweep": {
        "task": "reminders.tasks.sweep",
        "schedule": crontab(minute="*/5"),
    },
}
