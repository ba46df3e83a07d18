from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import DeliveryPreference, Reminder
from .selectors import reminder_queue_summary, reminder_states


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", _("Pending")),
            ("in_flight", _("In flight")),
            ("sent", _("Sent")),
            ("failed", _("Failed")),
            ("cancelled", _("Cancelled")),
        ]

    def queryset(self, request, queryset):
        states = reminder_states()
        if self.value() in states:
            return queryset.filter(states[self.value()])
        return queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """For operators: the queue by kind — pending, in flight, sent, failed with the error,
    cancelled — above the rows themselves."""

    list_display = (
        "kind",
        "target_type",
        "due_on",
        "recipient",
        "created_at",
        "send_after",
        "claimed_at",
        "sent_at",
        "cancelled_at",
        "failed_at",
        "attempts",
        "short_error",
    )
    list_filter = (StateFilter, "kind", "target_type")
    readonly_fields = [f.name for f in Reminder._meta.fields]
    list_select_related = ("recipient",)

    @admin.display(description=_("error"))
    def short_error(self, reminder: Reminder) -> str:
        return reminder.error[:200]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_summary": reminder_queue_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DeliveryPreference)
class DeliveryPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "delivery", "hour", "quiet_on_days_off", "updated_at")
