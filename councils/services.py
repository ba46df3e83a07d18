"""Writes to 支援会議: setting a council up and ending it, its members, its sessions and their
minutes, and the agenda. Each write checks the actor's right, runs in one transaction and
writes its audit entry there. Refusals are ``ValidationError``s keyed by form field, in the
user's language, so the form shows them with what was typed kept.

What the agenda shares is decided by the consent gate from the rule in ``councils.sharing``, on
these rows alone: a left member, an ended council, a passed sharing date or a withdrawn item
stops the sharing on the next request, with nothing to clean up.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Municipality
from agencies.permissions import Viewer
from audit.services import MASK, audit_record, diff
from cases.models import Client
from consent.models import DataCategory

from .models import AgendaItem, CouncilMember, CouncilSession, LegalBasis, SupportCouncil
from .permissions import (
    can_put_client_on_agenda,
    can_run_council,
    can_set_up_councils,
    can_take_off_agenda,
    can_write_minutes,
    is_standing,
)
from .selectors import current_member_ids

COUNCIL_FIELDS = ("name", "legal_basis", "confidentiality_note")


def default_sharing(held_on: date) -> tuple[date, date]:
    """The sharing dates a session gets unless the secretariat sets others."""
    return (
        held_on - timedelta(days=settings.COUNCIL_SHARING_DAYS_BEFORE),
        held_on + timedelta(days=settings.COUNCIL_SHARING_DAYS_AFTER),
    )


def _check_council_fields(*, name: str, legal_basis: str) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _("Write the name of the council.")
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = _("Choose the law the council is set up under.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def council_create(
    *,
    viewer: Viewer,
    municipality: Municipality,
    name: str,
    legal_basis: str,
    chair_agency: Agency,
    confidentiality_note: str = "",
    established_on: date | None = None,
) -> SupportCouncil:
    """Set up a council; its secretariat becomes its first member."""
    if not can_set_up_councils(viewer):
        raise PermissionDenied
    _check_council_fields(name=name, legal_basis=legal_basis)
    established_on = established_on or timezone.localdate()
    if not chair_agency.is_active:
        raise ValidationError({"chair_agency": _("This agency is not active.")})
    council = SupportCouncil.objects.create(
        municipality=municipality,
        name=name.strip(),
        legal_basis=legal_basis,
        chair_agency=chair_agency,
        confidentiality_note=confidentiality_note.strip(),
        established_on=established_on,
    )
    # The secretariat is a member from the start: it runs the council and sees its agenda.
    CouncilMember.objects.create(council=council, agency=chair_agency, joined_on=established_on)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.created",
        target=council,
        changes={
            "municipality": [None, str(municipality)],
            "name": [None, council.name],
            "legal_basis": [None, legal_basis],
            "chair_agency": [None, chair_agency.name],
            "established_on": [None, established_on.isoformat()],
        },
    )
    return council


@transaction.atomic
def council_update(
    *,
    viewer: Viewer,
    council: SupportCouncil,
    name: str,
    legal_basis: str,
    confidentiality_note: str,
) -> SupportCouncil:
    """Correct the name, the legal basis or the confidentiality note."""
    if not can_set_up_councils(viewer):
        raise PermissionDenied
    _check_council_fields(name=name, legal_basis=legal_basis)
    council = SupportCouncil.objects.select_for_update().get(pk=council.pk)
    before = {field: getattr(council, field) for field in COUNCIL_FIELDS}
    council.name = name.strip()
    council.legal_basis = legal_basis
    council.confidentiality_note = confidentiality_note.strip()
    council.save(update_fields=list(COUNCIL_FIELDS))
    after = {field: getattr(council, field) for field in COUNCIL_FIELDS}
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.updated",
        target=council,
        changes=diff(before, after),
    )
    return council


@transaction.atomic
def council_end(
    *, viewer: Viewer, council: SupportCouncil, on: date | None = None
) -> SupportCouncil:
    """The council is dissolved: from ``on`` it shares nothing more."""
    if not can_set_up_councils(viewer):
        raise PermissionDenied
    council = SupportCouncil.objects.select_for_update().get(pk=council.pk)
    on = on or timezone.localdate()
    if council.ended_on is not None:
        raise ValidationError(_("This council has already ended."))
    if on < council.established_on:
        raise ValidationError({"ended_on": _("The council cannot end before it was set up.")})
    council.ended_on = on
    council.save(update_fields=["ended_on"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.ended",
        target=council,
        changes={"ended_on": [None, on.isoformat()]},
    )
    return council


def _require_running(viewer: Viewer, council: SupportCouncil) -> SupportCouncil:
    """The council, re-read and locked: the caller's copy may predate its ending."""
    if not can_run_council(viewer, council):
        raise PermissionDenied
    council = SupportCouncil.objects.select_for_update().get(pk=council.pk)
    if not is_standing(council):
        raise ValidationError(_("This council has ended: nothing more can be added to it."))
    return council


@transaction.atomic
def council_member_add(
    *, viewer: Viewer, council: SupportCouncil, agency: Agency, joined_on: date | None = None
) -> CouncilMember:
    """An agency joins the council (bound to confidentiality from that day)."""
    council = _require_running(viewer, council)
    today = timezone.localdate()
    joined_on = joined_on or today
    if not agency.is_active:
        raise ValidationError({"agency": _("This agency is not active.")})
    if joined_on < council.established_on:
        raise ValidationError({"joined_on": _("The council was not set up yet on that day.")})
    # A membership that begins later could not be ended before it began (see leave below).
    if joined_on > today:
        raise ValidationError({"joined_on": _("The date is in the future.")})
    if CouncilMember.objects.filter(council=council, agency=agency, left_on__isnull=True).exists():
        raise ValidationError({"agency": _("This agency is already a member.")})
    member = CouncilMember.objects.create(council=council, agency=agency, joined_on=joined_on)
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.member_added",
        target=council,
        changes={"member": [None, agency.name], "joined_on": [None, joined_on.isoformat()]},
    )
    return member


@transaction.atomic
def council_member_leave(
    *, viewer: Viewer, member: CouncilMember, last_day: date | None = None
) -> CouncilMember:
    """An agency leaves the council. ``left_on`` is the day it left (today by default): from
    that day the gate counts it out, so it sees nothing more from the next request on. The
    row is kept: who was a member when stays answerable."""
    council = member.council
    if not can_run_council(viewer, council):
        raise PermissionDenied
    member = CouncilMember.objects.select_for_update().get(pk=member.pk)
    if member.left_on is not None:
        raise ValidationError(_("This agency has already left the council."))
    if member.agency_id == council.chair_agency_id:
        raise ValidationError(_("The secretariat cannot leave the council it runs."))
    today = timezone.localdate()
    if last_day is None:
        last_day = today
    if last_day < member.joined_on:
        raise ValidationError({"left_on": _("The agency was not a member yet on that day.")})
    if last_day > today:
        raise ValidationError({"left_on": _("The date is in the future.")})
    member.left_on = last_day
    member.save(update_fields=["left_on"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.member_left",
        target=council,
        changes={"member": [member.agency.name, None], "left_on": [None, last_day.isoformat()]},
    )
    return member


def _session_dates(
    *, held_on: date | None, sharing_from: date | None, sharing_until: date | None
) -> tuple[date, date, date]:
    if held_on is None:
        raise ValidationError({"held_on": _("Enter the date of the session.")})
    default_from, default_until = default_sharing(held_on)
    sharing_from = sharing_from or default_from
    sharing_until = sharing_until or default_until
    errors = {}
    # The lawful basis is the meeting: what is shared for it may reach only so far from it,
    # however the secretariat sets the dates (else a session could share until 2099).
    before = settings.COUNCIL_SHARING_MAX_DAYS_BEFORE
    after = settings.COUNCIL_SHARING_MAX_DAYS_AFTER
    if sharing_from > held_on:
        errors["sharing_from"] = _("Sharing must start on or before the day of the session.")
    elif sharing_from < held_on - timedelta(days=before):
        errors["sharing_from"] = _(
            "Sharing may start at most %(days)s days before the day of the session."
        ) % {"days": before}
    if sharing_until < held_on:
        errors["sharing_until"] = _("Sharing must last at least until the day of the session.")
    elif sharing_until > held_on + timedelta(days=after):
        errors["sharing_until"] = _(
            "Sharing may last at most %(days)s days after the day of the session."
        ) % {"days": after}
    if errors:
        raise ValidationError(errors)
    return held_on, sharing_from, sharing_until


SESSION_FIELDS = ("held_on", "title", "sharing_from", "sharing_until")


@transaction.atomic
def council_session_create(
    *,
    viewer: Viewer,
    council: SupportCouncil,
    held_on: date | None,
    title: str = "",
    sharing_from: date | None = None,
    sharing_until: date | None = None,
) -> CouncilSession:
    """A meeting of the council. Its agenda is shared only between the sharing dates
    (by default from COUNCIL_SHARING_DAYS_BEFORE before to COUNCIL_SHARING_DAYS_AFTER after;
    never more than COUNCIL_SHARING_MAX_DAYS_BEFORE / _AFTER from the session)."""
    council = _require_running(viewer, council)
    held_on, sharing_from, sharing_until = _session_dates(
        held_on=held_on, sharing_from=sharing_from, sharing_until=sharing_until
    )
    session = CouncilSession.objects.create(
        council=council,
        held_on=held_on,
        title=title.strip(),
        sharing_from=sharing_from,
        sharing_until=sharing_until,
        created_by=viewer.user,
    )
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.session_created",
        target=session,
        changes=diff({}, {field: getattr(session, field) for field in SESSION_FIELDS}),
    )
    return session


@transaction.atomic
def council_session_update(
    *,
    viewer: Viewer,
    session: CouncilSession,
    held_on: date | None,
    title: str = "",
    sharing_from: date | None = None,
    sharing_until: date | None = None,
) -> CouncilSession:
    """Move the session or change its sharing dates (a shorter period hides at once)."""
    _require_running(viewer, session.council)
    held_on, sharing_from, sharing_until = _session_dates(
        held_on=held_on, sharing_from=sharing_from, sharing_until=sharing_until
    )
    session = CouncilSession.objects.select_for_update().get(pk=session.pk)
    before = {field: getattr(session, field) for field in SESSION_FIELDS}
    session.held_on = held_on
    session.title = title.strip()
    session.sharing_from = sharing_from
    session.sharing_until = sharing_until
    session.save(update_fields=list(SESSION_FIELDS))
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.session_updated",
        target=session,
        changes=diff(before, {field: getattr(session, field) for field in SESSION_FIELDS}),
    )
    return session


@transaction.atomic
def council_minutes_save(
    *, viewer: Viewer, session: CouncilSession, minutes: str
) -> CouncilSession:
    """The secretariat writes the minutes (議事録). They may speak of people: only whoever may
    read them writes them (between the sharing dates, never a system admin), and the audit
    entry records that they changed, not what they say."""
    # Re-read and lock: the sharing dates or the membership may have changed since the form.
    session = (
        CouncilSession.objects.select_for_update(of=("self",))
        .select_related("council")
        .get(pk=session.pk)
    )
    if not can_write_minutes(viewer, session, current_member_ids(council=session.council)):
        raise PermissionDenied
    session.minutes = minutes.strip()
    session.save(update_fields=["minutes"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.minutes_written",
        target=session,
        changes={"minutes": [MASK, MASK]},
    )
    return session


@transaction.atomic
def agenda_item_add(
    *,
    viewer: Viewer,
    session: CouncilSession,
    client: Client,
    categories: list[str],
    reason: str,
) -> AgendaItem:
    """The holding agency puts its client on the session's agenda, sharing ``categories``
    with the members for that session. An item taken off before may be put back."""
    # Re-read: the session's dates or the council may have changed since the page was shown.
    session = CouncilSession.objects.select_related("council").get(pk=session.pk)
    members = current_member_ids(council=session.council)
    if not can_put_client_on_agenda(viewer, session, client, members):
        raise PermissionDenied
    categories = [c for c in DataCategory.values if c in set(categories)]
    errors = {}
    if not categories:
        errors["categories"] = _("Choose at least one kind of information to share.")
    if not reason.strip():
        errors["reason"] = _("Write why the council should discuss this person.")
    if errors:
        raise ValidationError(errors)
    item = AgendaItem.objects.select_for_update().filter(session=session, client=client).first()
    if item is not None and item.withdrawn_at is None:
        raise ValidationError({"client": _("This person is already on the agenda.")})
    action = "council.agenda_item_added" if item is None else "council.agenda_item_restored"
    if item is None:
        item = AgendaItem(session=session, client=client)
    item.categories = categories
    item.reason = reason.strip()
    item.added_by = viewer.user
    item.withdrawn_at = None
    item.save()
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action=action,
        target=item,
        changes={
            "session": [None, str(session.public_id)],
            "categories": [None, categories],
            "reason": [MASK, MASK],
        },
    )
    return item


@transaction.atomic
def agenda_item_withdraw(*, viewer: Viewer, item: AgendaItem) -> AgendaItem:
    """Take the item off the agenda: from the next request nothing of it is shared."""
    item = (
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("client", "session__council")
        .get(pk=item.pk)
    )
    if item.withdrawn_at is not None:
        raise ValidationError(_("This item has already been taken off the agenda."))
    if not can_take_off_agenda(viewer, item):
        raise PermissionDenied
    item.withdrawn_at = timezone.now()
    item.save(update_fields=["withdrawn_at"])
    audit_record(
        actor=viewer.user,
        acting_agency=viewer.agency,
        action="council.agenda_item_withdrawn",
        target=item,
        changes={"withdrawn_at": [None, item.withdrawn_at.isoformat()]},
    )
    return item
