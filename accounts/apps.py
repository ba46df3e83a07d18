from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .reauth import on_login

        # A login is a password just typed: changes to how one logs in need none again soon.
        user_logged_in.connect(on_login, dispatch_uid="reauth_on_login")
