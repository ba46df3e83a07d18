from django.contrib import admin, messages
from django.db.models import Case, CharField, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import DeliveryPreference, Reminder
from .selectors import reminder_queue_summary, reminder_states
from .services import reminders_requeue_given_up

STATE_LABELS = {
    "pending": _("Pending"),
    "in_flight": _("In flight"),
    "sent": _("Sent"),
    "failed": _("Failed"),
    "gave_up": _("Gave up"),
    "cancelled": _("Cancelled"),
}
# A row in several states shows the most telling: a given-up row has also failed.
STATE_PRECEDENCE = ("sent", "cancelled", "in_flight", "gave_up", "failed", "pending")


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(STATE_LABELS.items())

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

    # The row's whole history is on its own page; the list shows what an operator scans for.
    list_display = (
        "kind",
        "state",
        "target_type",
        "due_on",
        "recipient",
        "send_after",
        "sent_at",
        "attempts",
        "short_error",
    )
    list_filter = (StateFilter, "kind", "target_type")
    readonly_fields = [f.name for f in Reminder._meta.fields]
    list_select_related = ("recipient",)
    actions = ["requeue_given_up"]

    def get_queryset(self, request):
        # The state by the queue's own conditions (reminders.selectors), in the same query.
        states = reminder_states()
        return (
            super()
            .get_queryset(request)
            .annotate(
                state=Case(
                    *[When(states[key], then=Value(key)) for key in STATE_PRECEDENCE],
                    output_field=CharField(),
                )
            )
        )

    @admin.display(description=_("state"), ordering="state")
    def state(self, reminder: Reminder) -> str:
        return str(STATE_LABELS.get(reminder.state, "—"))

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
