from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from agencies.selectors import pick_purpose_register

        from .selectors import (
            consultation_partners_to_pick,
            meeting_agencies_to_pick,
            plan_agencies_to_pick,
        )

        # The agencies app cannot import this one: the picker's purposes are registered here.
        pick_purpose_register("consultation-partner", consultation_partners_to_pick)
        pick_purpose_register("plan-agency", plan_agencies_to_pick)
        pick_purpose_register("meeting-participant", meeting_agencies_to_pick)
