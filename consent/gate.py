"""The consent gate: the one place that decides what of a client's record may cross to someone
outside the holding agency, and on what basis.

Pages ask one question: ``open(viewer, client, context=…)``. It returns a ``RecordAccess`` —
category by category, allowed or not and on which basis — and writes the access log, failing
closed (no entry, no page). Sending asks the other: ``consented(client, recipient, purpose)``,
the categories a valid consent lets pass to an agency for that purpose.

The bases, and nothing else:

- ``HOLDER``: the agency's own record (its caseworkers and supervisors).
- ``CONSENT``: a valid 本人同意 to the viewer's agency, covering the category, given for the
  purpose of the link between the two agencies: an accepted つなぎ opens what a つなぎ consent
  covers, an accepted 共同支援 what a joint-support consent covers (個人情報保護法: personal
  information is used for the purpose the person agreed to, and no other). A consent for a
  支援調整会議 opens no copy and no live view.
- ``COUNCIL``: a 支援会議 (生活困窮者自立支援法 9条 / 社会福祉法 106条の6) session with the
  client on its agenda, the category shared, within the session's sharing dates, the council
  standing and both agencies members on the day.
- ``EMERGENCY``: an emergency disclosure (個人情報保護法 27条1項2号) to the viewer's agency
  covering the category, until it expires or is ended.
- ``PROVIDED``: what crossed with an accepted referral, now the receiver's own record.

Which agencies are linked, and what a 支援会議 agenda shares, are facts the referrals and
councils apps hold; they sit above this app, so they hand the gate those facts through
``register_link_source`` / ``register_share_source`` (called from their ``AppConfig.ready``).
With no source registered nothing is linked and nothing shared: the gate fails closed.

Nothing is cached: a withdrawal, an expiry or a left membership takes effect on the very next
call.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.permissions import Viewer, can_work_with_clients
from audit.access_log import needs_access_log, write_access_entry
from cases.permissions import holds_client

from .models import Consent, DataCategory, EmergencyDisclosure, Purpose

NOT_CONSENTED = _("No consent")


class Basis:
    HOLDER = "holder"
    CONSENT = "consent"
    COUNCIL = "council"
    EMERGENCY = "emergency"
    # What crossed with a referral after it was accepted: the recipient's own copy.
    PROVIDED = "provided"

    LABELS = {
        HOLDER: _("Own record"),
        CONSENT: _("Consent"),
        COUNCIL: _("Support council"),
        EMERGENCY: _("Emergency (APPI Art. 27(1)(ii))"),
        PROVIDED: _("Provided with consent"),
    }


class Context(models.TextChoices):
    """Where a record is looked at. Each context names what it shows and how the look is logged.

    - ``LIVE_VIEW``: the partner's live record, and another agency's view of a client page;
      every basis counts; logged whenever the viewer is not the holder.
    - ``COUNCIL_AGENDA``: a person on a 支援会議 agenda; as the live view (the agenda then shows
      only what the item itself shares).
    - ``JOINT_SUPPORT``: the 共同支援 page; as the live view (the page shows the support plan).
    - ``REFERRAL_COPY``: what one referral carried (``passage`` required): the sender holds it;
      the receiver sees, while deciding, what a consent for the referral's purpose covers
      today, once accepted all of it, and after a decline or a withdrawal nothing.
    - ``REFERRAL_MESSAGE``: a message the sender wrote after the referral was accepted: the
      sender's record reaching the partner today, so the live rule for 相談内容・支援経過 only;
      logged only when it is shown.

    Notifications name a person only to the holding agency (``reminders.selectors`` filters
    names through ``cases.selectors.in_client_scope``): a reminder never opens a record.
    """

    LIVE_VIEW = "live_view"
    COUNCIL_AGENDA = "council_agenda"
    JOINT_SUPPORT = "joint_support"
    REFERRAL_COPY = "referral_copy"
    REFERRAL_MESSAGE = "referral_message"


@dataclass(frozen=True)
class Decision:
    """For one category: allowed or not, on what basis, and the row that allows it."""

    allowed: bool
    basis: str | None
    consent: Consent | None = None
    source: object | None = None

    def __bool__(self) -> bool:
        return self.allowed


DENIED = Decision(allowed=False, basis=None)


@dataclass(frozen=True)
class RecordAccess:
    """What one viewer may see of one client record right now, category by category."""

    client: object
    decisions: dict[str, Decision] = field(default_factory=dict)
    linked: bool = False

    def allows(self, category: str) -> bool:
        return self.decision(category).allowed

    def decision(self, category: str) -> Decision:
        if category not in DataCategory.values:
            raise ValueError(f"unknown data category {category!r}")
        return self.decisions.get(category, DENIED)

    @property
    def shown(self) -> list[str]:
        return [c for c in DataCategory.values if self.allows(c)]

    @property
    def withheld(self) -> list[str]:
        return [c for c in DataCategory.values if not self.allows(c)]

    @property
    def is_holder(self) -> bool:
        return any(d.basis == Basis.HOLDER for d in self.decisions.values())

    @property
    def bases(self) -> list[str]:
        return sorted({d.basis for d in self.decisions.values() if d.allowed})

    @property
    def emergency(self) -> list[EmergencyDisclosure]:
        found = {
            d.source.pk: d.source for d in self.decisions.values() if d.basis == Basis.EMERGENCY
        }
        return list(found.values())

    @property
    def any(self) -> bool:
        return bool(self.shown)

    def only(self, categories: Iterable[str]) -> "RecordAccess":
        wanted = set(categories)
        return RecordAccess(
            self.client,
            {c: d for c, d in self.decisions.items() if c in wanted},
            linked=self.linked,
        )


def holder_access(client) -> RecordAccess:
    return RecordAccess(
        client, {c: Decision(True, Basis.HOLDER) for c in DataCategory.values}, linked=True
    )


# --- What other apps know: links and council shares ---------------------------------------------


@dataclass(frozen=True)
class Share:
    """A 支援会議 agenda item sharing ``categories`` of the client with an agency on the day."""

    categories: tuple[str, ...]
    source: object


# (client, agency_id) -> the consent purposes of the accepted links between the agency and the
# record (つなぎ → Purpose.TSUNAGI, 共同支援 → Purpose.JOINT_SUPPORT), in either direction.
LinkSource = Callable[[object, int], set[str]]
# (client, agency_id, day) -> the agenda items sharing the client with the agency that day.
ShareSource = Callable[[object, int, date], Iterable[Share]]

_link_sources: list[LinkSource] = []
_share_sources: list[ShareSource] = []


def register_link_source(source: LinkSource) -> None:
    if source not in _link_sources:
        _link_sources.append(source)


def register_share_source(source: ShareSource) -> None:
    if source not in _share_sources:
        _share_sources.append(source)


def registered_sources() -> tuple[int, int]:
    """How many link and share sources are registered (the system check reads this)."""
    return len(_link_sources), len(_share_sources)


def link_purposes(*, client, agency_id: int) -> set[str]:
    return set().union(*(source(client, agency_id) for source in _link_sources))


def council_shares(*, client, agency_id: int, on: date | None = None) -> list[Share]:
    day = on or timezone.localdate()
    return [share for source in _share_sources for share in source(client, agency_id, day)]


# --- Passing: what may be sent to an agency ------------------------------------------------------


def consented(*, client, recipient, purpose: str, on: date | None = None) -> dict[str, Consent]:
    """{category: the consent that covers it}: what may pass to ``recipient`` for ``purpose``
    on the day (today by default). A consent covers the purpose it was given for, no other."""
    if purpose not in (Purpose.TSUNAGI, Purpose.JOINT_SUPPORT):
        # A consent for a 支援調整会議 lets the person be spoken of at that meeting, with the
        # participants present; it never lets a copy or a live view pass.
        return {}
    covered: dict[str, Consent] = {}
    for consent in (
        Consent.objects.valid_on(on)
        .filter(client=client, recipient=recipient, purpose=purpose)
        .order_by("-obtained_on", "-id")
    ):
        for category in consent.categories:
            covered.setdefault(category, consent)
    return covered


def may_pass(*, client, recipient, purpose: str, category: str, on: date | None = None) -> Decision:
    """May ``category`` of ``client``'s record be *passed* to ``recipient`` for ``purpose``?

    Passing needs the person's consent for that purpose; the emergency and 支援会議 bases
    allow showing, not sending a copy."""
    if category not in DataCategory.values:
        raise ValueError(f"unknown data category {category!r}")
    if recipient.pk == client.agency_id:
        return Decision(allowed=True, basis=Basis.HOLDER)
    consent = consented(client=client, recipient=recipient, purpose=purpose, on=on).get(category)
    if consent is None:
        return DENIED
    return Decision(allowed=True, basis=Basis.CONSENT, consent=consent, source=consent)


# --- Looking: what a viewer may see --------------------------------------------------------------


def _live_access(viewer: Viewer, client, moment: datetime) -> RecordAccess:
    if holds_client(viewer, client):
        return holder_access(client)
    # Supporters, administrative staff and system admins never see another agency's client.
    if not can_work_with_clients(viewer):
        return RecordAccess(client)
    agency = viewer.membership.agency
    day = timezone.localdate(moment)
    decisions: dict[str, Decision] = {}
    purposes = link_purposes(client=client, agency_id=agency.pk)
    for purpose in sorted(purposes):
        for category, consent in consented(
            client=client, recipient=agency, purpose=purpose, on=day
        ).items():
            decisions.setdefault(category, Decision(True, Basis.CONSENT, consent, consent))
    for share in council_shares(client=client, agency_id=agency.pk, on=day):
        for category in share.categories:
            decisions.setdefault(category, Decision(True, Basis.COUNCIL, source=share.source))
    for disclosure in EmergencyDisclosure.objects.active_at(moment).filter(
        client=client, recipient_id=agency.pk
    ):
        for category in disclosure.categories:
            decisions.setdefault(category, Decision(True, Basis.EMERGENCY, source=disclosure))
    return RecordAccess(client, decisions, linked=bool(purposes))


class PassageState(models.TextChoices):
    """Where a referral stands, as far as what it carried is concerned."""

    SENT = "sent"  # awaiting the receiver's answer
    RECEIVED = "received"  # accepted: what crossed is the receiver's own record
    CLOSED = "closed"  # a draft, declined or withdrawn: nothing reaches the receiver


@dataclass(frozen=True)
class Passage:
    """What one referral carries from one agency to another, described by the referrals app
    (``Referral.passage``) so that the gate reads no referral rows itself."""

    sender_id: int
    recipient: object
    purpose: str
    categories: tuple[str, ...]
    state: str


def _passage_access(viewer: Viewer, client, passage: Passage) -> RecordAccess:
    agency_id = viewer.membership.agency_id if can_work_with_clients(viewer) else None
    if agency_id is not None and agency_id == passage.sender_id:
        return holder_access(client)
    if agency_id is None or agency_id != passage.recipient.pk:
        return RecordAccess(client)
    if passage.state == PassageState.SENT:
        covered = consented(client=client, recipient=passage.recipient, purpose=passage.purpose)
        return RecordAccess(
            client,
            {
                c: Decision(True, Basis.CONSENT, consent=covered[c], source=covered[c])
                for c in passage.categories
                if c in covered
            },
        )
    if passage.state == PassageState.RECEIVED:
        return RecordAccess(client, {c: Decision(True, Basis.PROVIDED) for c in passage.categories})
    return RecordAccess(client)


def decide(
    viewer: Viewer, client, *, context: str, passage: Passage | None = None, at=None
) -> RecordAccess:
    """What ``viewer`` may see of ``client`` in ``context``, without writing the access log.

    For a question that shows nothing by itself (may this person be put on an agenda, is a
    link in force); anything shown goes through ``open``."""
    if context == Context.REFERRAL_COPY:
        if passage is None:
            raise ValueError("a referral copy is opened with the passage it belongs to")
        return _passage_access(viewer, client, passage)
    access = _live_access(viewer, client, at or timezone.now())
    if context == Context.REFERRAL_MESSAGE:
        return access.only([DataCategory.CONSULTATION])
    return access


def _log(viewer: Viewer, client, access: RecordAccess, page: str, path: str) -> None:
    # Shown: the page was shown, even if only with placeholders (a linked agency after a
    # withdrawal); denied: the record was refused.
    write_access_entry(
        viewer=viewer,
        client=client,
        shown_page=access.any or access.linked,
        categories=access.shown,
        bases=access.bases,
        page=page,
        path=path,
    )


def open(
    viewer: Viewer,
    client,
    *,
    context: str,
    passage: Passage | None = None,
    page: str = "",
    path: str = "",
) -> RecordAccess:
    """Decide what ``viewer`` may see of ``client`` in ``context`` and write the look to the
    access log when it must be logged. Callers show nothing when this raises: if the log
    cannot be written (``AccessLogUnavailableError``), the page is refused."""
    access = decide(viewer, client, context=context, passage=passage)
    if context == Context.REFERRAL_MESSAGE:
        if access.any:
            _log(viewer, client, access, page, path)
    elif context == Context.REFERRAL_COPY:
        if needs_access_log(viewer, client):
            _log(viewer, client, access, page, path)
    # The holding agency's own supporters and administrative staff are refused like anyone
    # else, and their refusal is logged like anyone else's.
    elif needs_access_log(viewer, client) or not access.is_holder:
        _log(viewer, client, access, page, path)
    return access
