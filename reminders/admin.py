from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import DeliveryPreference, Reminder
from .selectors import reminder_queue_summary, reminder_states
from .services import reminders_requeue_given_up


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", _("Pending")),
            ("in_flight", _("In flight")),
            ("sent", _("Sent")),
            ("failed", _("Failed")),
            ("gave_up", _("Gave up")),
            ("cancelled", _("Cancelled")),
        ]

    def queryset(self, request, queryset):
        states = reminder_states()
        if self.value() in states:
            return queryset.filter(states[self.value()])
        return queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """For operators: the queue by kind — pending, in flight, sent, failed with the error (and
    of those, given up), cancelled — above the rows themselves; given-up rows can be sent
    again."""

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
        "gave_up_at",
        "attempts",
        "short_error",
    )
    list_filter = (StateFilter, "kind", "target_type")
    readonly_fields = [f.name for f in Reminder._meta.fields]
    list_select_related = ("recipient",)
    actions = ["requeue_given_up"]

    @admin.display(description=_("error"))
    def short_error(self, reminder: Reminder) -> str:
        return reminder.error[:200]

    @admin.action(description=_("Send the selected given-up reminders again"))
    def requeue_given_up(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        count = reminders_requeue_given_up(actor=request.user, ids=ids)
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d given-up reminder will be sent again.",
                    "%(count)d given-up reminders will be sent again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("None of the selected reminders had been given up."), messages.WARNING
            )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_summary": reminder_queue_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DeliveryPreference)
class DeliveryPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "delivery", "hour", "quiet_on_days_off", "updated_at")
