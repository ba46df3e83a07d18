from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilsConfig(AppConfig):
    name = "councils"
    verbose_name = _("Support councils (支援会議)")

    def ready(self):
        # Imported here because models are not ready before: Django's documented place to
        # connect an app to the apps below it (these imports point down, never up).
        from agencies.selectors import pick_purpose_register
        from consent.gate import register_share_source

        from .selectors import council_chairs_to_pick, council_members_to_pick
        from .sharing import agenda_shares

        # The apps below cannot import this one: the picker's purposes and what a council
        # shares are handed to them here.
        pick_purpose_register("council-chair", council_chairs_to_pick)
        pick_purpose_register("council-member", council_members_to_pick)
        register_share_source(agenda_shares)
