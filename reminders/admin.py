from django.contrib import admin

from .models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """For operators: the queue by kind, what is pending, sent, cancelled or failed and why."""

    list_display = (
        "kind",
        "target_type",
        "due_on",
        "recipient",
        "created_at",
        "sent_at",
        "cancelled_at",
        "failed_at",
        "attempts",
    )
    list_filter = ("kind", "target_type", "sent_at", "cancelled_at", "failed_at")
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
