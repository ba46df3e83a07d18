"""What the reminders app hears from the apps below it.

An emergency disclosure asks the holding agency's supervisors to review it at once: the sweep
creates their "to review" reminder from the row; this only makes the sweep run now rather than
at its next beat (after the disclosure's transaction commits, so the worker sees the row).
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from consent.models import EmergencyDisclosure

from .tasks import sweep


@receiver(post_save, sender=EmergencyDisclosure, dispatch_uid="reminders.emergency_disclosed")
def sweep_after_an_emergency_disclosure(sender, instance, created: bool, **kwargs) -> None:
    if created:
        transaction.on_commit(sweep.delay)
