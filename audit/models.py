from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.records import category_labels


class AuditEntry(models.Model):
    """One sensitive change: who, when, as which agency, what, and before → after.

    Rows are only ever inserted. Personal data is masked before it gets here (see
    ``audit.services.audit_record``).
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        help_text=_("Empty for changes made by the system itself."),
    )
    acting_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("as agency"),
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60)
    target_id = models.CharField(_("target id"), max_length=64)
    target_label = models.CharField(_("target"), max_length=300)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_label}"


class AccessOutcome(models.TextChoices):
    SHOWN = "shown", _("Shown")
    DENIED = "denied", _("Denied")


class AccessEntry(models.Model):
    """One look at a client's record by someone outside the holding agency (or a system admin),
    or one denied attempt. Written before the page is shown: no entry, no page (fail closed).

    ``basis`` is the gate's basis (consent.gate.Basis); ``categories`` what was shown and
    ``withheld`` what was not, so "who saw what, on what ground" can be answered later.
    """

    at = models.DateTimeField(_("when"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("as agency"),
    )
    # The agency's name as it was at the look: renaming an agency must not relabel history.
    agency_name = models.CharField(_("agency name then"), max_length=200, blank=True)
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=AccessOutcome.choices)
    basis = models.CharField(_("basis"), max_length=20, blank=True)
    categories = models.JSONField(_("shown"), default=list, blank=True)
    withheld = models.JSONField(_("withheld"), default=list, blank=True)
    page = models.CharField(_("page"), max_length=100)
    path = models.CharField(_("address"), max_length=300)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["client", "-at", "-id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} {self.page}"

    @property
    def category_labels(self) -> list[str]:
        return category_labels(self.categories)
