from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        # Imported here because models are not ready before: Django's documented place to
        # connect an app to the apps below it (these imports point down, never up).
        from agencies.selectors import pick_purpose_register
        from cases.extensions import register_caseload_panel, register_timeline_source
        from consent.gate import register_link_source

        from .dashboard import AWAITING_ME
        from .links import linked_purposes
        from .selectors import referral_recipients_to_pick
        from .timeline import REFERRALS

        # The apps below cannot import this one: the picker's purpose, which agencies a referral
        # links to a record, the client timeline's referral entries and the caseload's box of
        # referrals assigned to me are handed to them here.
        pick_purpose_register("referral-recipient", referral_recipients_to_pick)
        register_link_source(linked_purposes)
        register_timeline_source(REFERRALS)
        register_caseload_panel(AWAITING_ME)
