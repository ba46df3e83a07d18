"""The reminder writes a person triggers: the notification centre (mark one or all read), a
person's delivery preference, an agency's reminder settings, and a system admin re-queueing the
emails given up. Each takes the acting user first and checks their permission; the settings and
the re-queue write an audit entry and run in one transaction.

When each reminder is due is in ``reminders.conditions`` (one module per kind); the periodic
sweep that creates them is ``reminders.sweep``, the sender ``reminders.delivery``.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from agencies.models import Agency
from agencies.permissions import Viewer, can_manage_agency, is_system_admin
from audit.services import audit_record

from .conditions import THRESHOLD_FIELDS
from .delivery import PENDING, _closed_year_end, _preference_of, _retry_delivery, next_delivery
from .models import Delivery, DeliveryPreference, Reminder
from .selectors import reminder_scope
from .tasks import send_due

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


# --- Settings ---------------------------------------------------------------------------------


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


# --- Operators --------------------------------------------------------------------------------


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
        transaction.on_commit(lambda: send_due.delay(ready))
    # A row held to the next business day is picked up by the sweep when its moment comes.
    return len(rows)
