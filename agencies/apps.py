from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("Agencies")

    def ready(self):
        from .selectors import network_agencies_to_pick, pick_purpose_register

        # As the apps building on this one do, for the system screens' own picker.
        pick_purpose_register("network-agency", network_agencies_to_pick)
