"""What crossed: the part of a referral's page about the person, as the consent gate lets the
viewer see it now (the sent categories and the message thread).
"""

from dataclasses import dataclass

from agencies.permissions import Viewer
from consent import gate
from consent.record_data import RecordSection, record_sections
from core.records import DataCategory

from ..links import passage
from ..models import NEEDS_CONSENT, RECEIVED, Referral, ReferralMessage
from ..permissions import Side, side_of


@dataclass(frozen=True)
class ReferralCopy:
    """What of a referral the viewer sees about the person: the sent categories (withheld ones
    as placeholders) and the message thread, whose other-agency messages count as the
    person's information too."""

    sections: list[RecordSection]
    thread: list[ReferralMessage]
    thread_withheld: int = 0  # the other agency's messages not shown
    person_name: str = ""  # the name as sent, if the viewer may see it
    # The reason, the person's wishes and the covering message are about the person too: the
    # receiver reads them only while it may see something of what was sent.
    texts_visible: bool = False


def posted_after_acceptance(referral: Referral, message: ReferralMessage) -> bool:
    """A message from the sending agency written after the referral was accepted: new
    information about the person, not part of what crossed at sending."""
    return (
        message.agency_id == referral.from_agency_id
        and referral.status in RECEIVED
        and referral.answered_at is not None
        and message.created_at > referral.answered_at
    )


def _live_thread_access(*, viewer: Viewer, referral: Referral) -> bool:
    """May the receiving side read what the sender wrote after acceptance, right now?

    Only what crossed at sending became the receiver's own record (``RECEIVED``); a later
    message is the sender's record reaching the partner today, so it follows the live basis —
    the person's consent (or another basis of the gate) covering 相談内容・支援経過 — exactly
    as the partner's live view does. A look it allows is written to the access log on that
    basis (the page's own entry says only "provided")."""
    access = gate.open(viewer, referral.client, context=gate.Context.REFERRAL_MESSAGE)
    return access.allows(DataCategory.CONSULTATION)


def referral_copy(*, viewer: Viewer, referral: Referral) -> ReferralCopy:
    """The referral's page content about the person, as the gate lets this viewer see it now
    (it logs the receiving side's look).

    The receiver reads the sender's messages from before acceptance only while it may see
    something of what was sent (a withdrawal before the answer hides them too), and those the
    sender wrote after acceptance only while the live basis covers 相談内容・支援経過 (a
    withdrawal after acceptance hides them at once; what crossed stays). Its own agency's
    messages it always reads: it wrote them."""
    access = gate.open(
        viewer, referral.client, context=gate.Context.REFERRAL_COPY, passage=passage(referral)
    )
    sections = []
    if referral.type in NEEDS_CONSENT and referral.sent_at is not None:
        sections = record_sections(referral.snapshot, referral.categories, set(access.shown))
    own_agency = viewer.membership.agency_id if viewer.membership else None
    messages = list(referral.messages.all())
    receiver = not access.is_holder and side_of(viewer, referral) == Side.RECEIVER
    # Asked only when there is such a message: a thread without one costs no query more.
    live = (
        receiver
        and any(posted_after_acceptance(referral, m) for m in messages)
        and _live_thread_access(viewer=viewer, referral=referral)
    )
    thread, withheld = [], 0
    for message in messages:
        # The sender holds the record and reads everything. The receiving agency's own
        # messages to the sender stay as they are: they are about the receiver's own record
        # (it holds its copy), written by it for the sender to read, and the sender already
        # holds the person's record they came from — what the receiver chooses to pass back
        # is its own decision as a holder, not something this gate can see.
        if access.is_holder or message.agency_id == own_agency:
            thread.append(message)
        elif posted_after_acceptance(referral, message):
            if live:
                thread.append(message)
            else:
                withheld += 1
        elif access.any:
            thread.append(message)
        else:
            withheld += 1
    name = ""
    if access.allows(DataCategory.BASIC) and referral.sent_at is not None:
        name = (referral.snapshot.get(DataCategory.BASIC) or {}).get("full_name", "")
    return ReferralCopy(
        sections=sections,
        thread=thread,
        thread_withheld=withheld,
        person_name=name,
        texts_visible=access.any or access.is_holder,
    )
