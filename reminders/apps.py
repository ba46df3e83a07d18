from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"
    verbose_name = _("Reminders")

    def ready(self):
        # Connects the signal receivers and hands cases the caseload's box of unread reminders
        # (Django's documented place to do both; these imports point down, never up).
        from cases.extensions import register_caseload_panel

        from . import receivers  # noqa: F401
        from .dashboard import UNREAD

        register_caseload_panel(UNREAD)
