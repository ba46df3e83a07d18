"""Who may do what with a 支援会議: plain predicates, used by services, selectors and templates.

A council is run by its secretariat (事務局, ``chair_agency``): the secretariat's supervisors keep
its members and sessions and write the minutes; system admins set councils up and end them and
may do everything the secretariat does except read or write the minutes, which may speak of
people (``can_read_minutes``). Caseworkers and supervisors of a *current* member agency
open the council's pages; anyone else gets a 404. Client data on those pages is decided by the
consent gate alone (``consent.gate``), never here.

``member_ids`` is the set of agency ids that are members today
(``councils.selectors.current_member_ids``), read once per request by the caller.
"""

from datetime import date

from django.utils import timezone

from agencies.models import Role
from agencies.permissions import Viewer, is_system_admin
from cases.permissions import can_work_with_clients, holds_client

from .models import AgendaItem, CouncilSession, SupportCouncil


def is_standing(council: SupportCouncil, on: date | None = None) -> bool:
    """The council exists on the day: established and not yet ended."""
    return council.is_standing_on(on)


def can_set_up_councils(viewer: Viewer) -> bool:
    return is_system_admin(viewer.user)


def can_list_councils(viewer: Viewer) -> bool:
    """The list of councils: client staff (their agency's councils, maybe none) and system
    admins (all of them)."""
    return is_system_admin(viewer.user) or can_work_with_clients(viewer)


def can_run_council(viewer: Viewer, council: SupportCouncil) -> bool:
    """Members, sessions and minutes: the secretariat's supervisors and system admins."""
    if is_system_admin(viewer.user):
        return True
    membership = viewer.membership
    return bool(
        membership
        and membership.role == Role.SUPERVISOR
        and membership.agency_id == council.chair_agency_id
    )


def is_member_staff(viewer: Viewer, member_ids: set[int] | frozenset[int]) -> bool:
    """A caseworker or supervisor of an agency that is a member today. Supporters and
    administrative staff of a member agency take no part in the council."""
    return can_work_with_clients(viewer) and viewer.membership.agency_id in member_ids


def can_open_council(
    viewer: Viewer, council: SupportCouncil, member_ids: set[int] | frozenset[int]
) -> bool:
    return is_system_admin(viewer.user) or is_member_staff(viewer, member_ids)


def can_put_on_agenda(
    viewer: Viewer, session: CouncilSession, member_ids: set[int] | frozenset[int]
) -> bool:
    """Staff of a member agency put their own agency's clients on a session's agenda while the
    council stands and the session's sharing has not ended."""
    return (
        is_member_staff(viewer, member_ids)
        and is_standing(session.council)
        and session.sharing_until >= timezone.localdate()
    )


def can_put_client_on_agenda(
    viewer: Viewer, session: CouncilSession, client, member_ids: set[int] | frozenset[int]
) -> bool:
    """Only the agency holding the record decides to bring its client to the council."""
    return can_put_on_agenda(viewer, session, member_ids) and holds_client(viewer, client)


def is_sharing(session: CouncilSession, on: date | None = None) -> bool:
    """The day is within the session's sharing dates and the council stands."""
    day = on or timezone.localdate()
    return session.sharing_from <= day <= session.sharing_until and is_standing(
        session.council, day
    )


def can_read_minutes(
    viewer: Viewer, session: CouncilSession, member_ids: set[int] | frozenset[int]
) -> bool:
    """The minutes may speak of people, so they reach as far as the agenda and no further:
    caseworkers and supervisors of an agency that is a member today (the secretariat is one),
    between the session's sharing dates, while the council stands. Never system admins acting
    as such, supporters or administrative staff (no client data, docs/consent-gate.md)."""
    return is_member_staff(viewer, member_ids) and is_sharing(session)


def can_write_minutes(
    viewer: Viewer, session: CouncilSession, member_ids: set[int] | frozenset[int]
) -> bool:
    """The secretariat's supervisors, while they may read them: writing over minutes one may
    not read would be blind, so a system admin who runs the council does not write them."""
    return can_run_council(viewer, session.council) and can_read_minutes(
        viewer, session, member_ids
    )


def can_take_off_agenda(viewer: Viewer, item: AgendaItem) -> bool:
    """The holding agency's staff, and whoever runs the council, may take an item off (it only
    narrows what is shared)."""
    if item.withdrawn_at is not None:
        return False
    return holds_client(viewer, item.client) or can_run_council(viewer, item.session.council)
