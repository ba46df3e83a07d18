"""Which agencies a referral links to a client record, and what a referral carries, told to the
consent gate.

An accepted つなぎ or 共同支援 joins the two agencies' records of the person in either direction:
the receiver looks at the sender's record, the sender at the record the receiver made. What
each may then see is the gate's decision — as far as a consent *for that link's purpose* covers
it (``Referral.consent_purpose``).
"""

from django.db.models import Q

from consent.gate import Passage, PassageState

from .models import CONSENT_PURPOSE, NEEDS_CONSENT, RECEIVED, Referral, Status


def linked_purposes(client, agency_id: int) -> set[str]:
    """The link source the gate asks (registered in ``ReferralsConfig.ready``): the consent
    purposes of the accepted links between ``agency_id`` and this record."""
    types = (
        Referral.objects.filter(type__in=NEEDS_CONSENT, status__in=RECEIVED)
        .filter(
            Q(client=client, to_agency_id=agency_id)
            | Q(receiving_client=client, from_agency_id=agency_id)
        )
        .values_list("type", flat=True)
        .distinct()
    )
    return {CONSENT_PURPOSE[t] for t in types}


def passage(referral: Referral) -> Passage:
    """What the referral carries, for ``gate.open(…, context=Context.REFERRAL_COPY)``."""
    if referral.status == Status.SENT:
        state = PassageState.SENT
    elif referral.status in RECEIVED:
        state = PassageState.RECEIVED
    else:
        state = PassageState.CLOSED
    return Passage(
        sender_id=referral.from_agency_id,
        recipient=referral.to_agency,
        purpose=referral.consent_purpose or "",
        categories=tuple(referral.categories),
        state=state,
    )
