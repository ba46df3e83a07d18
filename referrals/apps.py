from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from agencies.selectors import pick_purpose_register

        from .selectors import referral_recipients_to_pick

        # The agencies app cannot import this one: the picker's purpose is registered here.
        pick_purpose_register("referral-recipient", referral_recipients_to_pick)
