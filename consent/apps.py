from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
        from agencies.selectors import pick_purpose_register

        from .selectors import consent_recipients_to_pick

        # The agencies app cannot import this one: the picker's purpose is registered here.
        pick_purpose_register("consent-recipient", consent_recipients_to_pick)
