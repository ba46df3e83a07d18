"""Consent is about to expire: a consent in force ends within the holding agency's
``consent_expiring_days_before`` days, and no later consent to the same agency for the same
purpose carries on. To the primary caseworker of the client's open case, due that many days
before the end. A renewal ends it. Title: the label of ``Kind.CONSENT_EXPIRING``."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Exists, OuterRef

from cases.models import Case, Stage
from consent.models import Consent

from ..models import Kind, TargetType
from ._common import Day, _keyset, _only, _thresholds


def condition(today: Day, batch_size: int, targets: set[str] | None) -> Iterator[list]:
    """A consent in force that ends within the holding agency's number of days, unless a later
    one for the same agency already carries on (a renewal through ``replaces`` ends this one,
    which also stops it)."""
    # A renewal carries on only for the same purpose: a consent covers the purpose it was given
    # for (consent.gate), so a joint-support consent does not renew a つなぎ one.
    renewed = Consent.objects.filter(
        client=OuterRef("client"),
        recipient=OuterRef("recipient"),
        purpose=OuterRef("purpose"),
        ended_on__isnull=True,
        valid_until__gt=OuterRef("valid_until"),
    )
    for (days,) in _thresholds("consent_expiring_days_before"):
        before = timedelta(days=days)
        consents = Consent.objects.filter(
            ended_on__isnull=True, client__agency__consent_expiring_days_before=days
        ).exclude(Exists(renewed))
        if today is not None:
            # In force today by the rule the gate reads, and ending within the days set.
            consents = consents.valid_on(today).filter(valid_until__lte=today + before)
        fields = ["public_id", "valid_until", "client_id", "client__agency_id"]
        for rows in _keyset(_only(consents, targets), fields, batch_size):
            # The caseworker of the holding agency: the primary worker of the client's open case.
            workers = dict(
                Case.objects.exclude(stage=Stage.CLOSED)
                .filter(client_id__in={r["client_id"] for r in rows})
                .values_list("client_id", "primary_worker_id")
            )
            yield [
                (
                    Kind.CONSENT_EXPIRING,
                    TargetType.CONSENT,
                    str(r["public_id"]),
                    r["valid_until"] - before,
                    workers[r["client_id"]],
                    r["client__agency_id"],
                )
                for r in rows
                if r["client_id"] in workers
            ]
