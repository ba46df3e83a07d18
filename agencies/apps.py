from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("Agencies")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_second_factor_rule
        from .selectors import network_agencies_to_pick, pick_purpose_register

        # Who must log in with a second factor is the roster's rule: decided at each login.
        user_logged_in.connect(remember_second_factor_rule, dispatch_uid="second_factor_rule")

        # As the apps building on this one do, for the system screens' own picker.
        pick_purpose_register("network-agency", network_agencies_to_pick)
