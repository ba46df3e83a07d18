from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit trail: every sensitive change, written in the same transaction as the change."""

    name = "audit"
    verbose_name = _("Audit")
