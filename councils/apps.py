from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilsConfig(AppConfig):
    name = "councils"
    verbose_name = _("Support councils (支援会議)")

    def ready(self):
        from agencies.selectors import pick_purpose_register

        from .selectors import council_chairs_to_pick, council_members_to_pick

        # The agencies app cannot import this one: the picker's purposes are registered here.
        pick_purpose_register("council-chair", council_chairs_to_pick)
        pick_purpose_register("council-member", council_members_to_pick)
