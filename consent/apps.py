from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
        # Imported here because models are not ready before: Django's documented place to
        # connect an app to the apps below it (these imports point down, never up).
        from agencies.selectors import pick_purpose_register
        from cases.extensions import register_flag, register_timeline_source

        from . import checks  # noqa: F401 - registers the gate's system check
        from .selectors import consent_recipients_to_pick
        from .timeline import ACTIVE_EMERGENCIES, CONSENT_OBTAINED, CONSENT_WITHDRAWN

        # The apps below cannot import this one: the picker's purpose, the client timeline's
        # consent entries and the emergency flag are handed to them here.
        pick_purpose_register("consent-recipient", consent_recipients_to_pick)
        register_timeline_source(CONSENT_OBTAINED)
        register_timeline_source(CONSENT_WITHDRAWN)
        register_flag(ACTIVE_EMERGENCIES)
