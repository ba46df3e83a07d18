"""Reads of the roster. Every read that depends on who is looking takes the viewer."""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from accounts.models import User
from core.japanese import search_key, to_katakana
from core.pagination import KeysetPage, keyset_page

from .models import Agency, AgencyFunctionEntry, Membership, Municipality, MunicipalityKind, Network
from .permissions import (
    Viewer,
    can_administer_installation,
    can_manage_agency,
    can_read_directory,
)

DIRECTORY_ORDERING = ["name_kana", "name", "id"]


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """The active memberships a user may act through, in agencies active today."""
    return (
        Membership.objects.filter(
            user=user,
            is_active=True,
            agency__in=Agency.objects.active(on=timezone.localdate()),
        )
        .select_related("agency")
        .order_by("agency__name_kana", "agency__name", "id")
    )


def membership_get_for_user(*, user, membership_id: int | None) -> Membership | None:
    if membership_id is None:
        return None
    return membership_list_for_user(user=user).filter(id=membership_id).first()


@dataclass(frozen=True)
class DirectoryQuery:
    text: str = ""
    kind: str = ""
    # A prefecture or municipality, matched as where the agency is set up ("located") or as
    # part of the area it serves ("serving", what a caseworker looking for a referral needs).
    area: Municipality | None = None
    area_scope: str = "serving"
    function: str = ""
    receives_referrals: bool | None = None
    include_inactive: bool = False


def _with_directory_details(agencies: QuerySet[Agency]) -> QuerySet[Agency]:
    return agencies.select_related("municipality__prefecture").prefetch_related(
        Prefetch("function_entries", queryset=AgencyFunctionEntry.objects.order_by("function")),
        Prefetch("networks", queryset=Network.objects.order_by("name")),
    )


def agency_directory(*, viewer: Viewer, query: DirectoryQuery, cursor: str | None) -> KeysetPage:
    """The agency directory for staff: where to refer or introduce a client.

    Free text matches name and kana, insensitive to hiragana/katakana and width.
    """
    if not can_read_directory(viewer):
        raise Http404
    agencies = Agency.objects.all() if query.include_inactive else Agency.objects.active()
    if query.text:
        agencies = matching_text(agencies, query.text)
    # Only a filter over a many-valued relation (service area, functions) can repeat a row;
    # DISTINCT otherwise sorts every column of the whole roster for nothing.
    repeats = False
    if query.kind:
        agencies = agencies.filter(kind=query.kind)
    if query.area is not None:
        field = "municipality" if query.area_scope == "located" else "service_area"
        repeats = repeats or field == "service_area"
        if query.area.kind == MunicipalityKind.PREFECTURE:
            agencies = agencies.filter(
                Q(**{field: query.area}) | Q(**{f"{field}__prefecture": query.area})
            )
        else:
            # A prefectural center serving the whole prefecture serves this municipality too.
            agencies = agencies.filter(
                Q(**{field: query.area}) | Q(**{field: query.area.prefecture_id})
                if field == "service_area"
                else Q(**{field: query.area})
            )
    if query.function:
        agencies = agencies.filter(function_entries__function=query.function)
        repeats = True
    if query.receives_referrals is not None:
        agencies = agencies.filter(receives_referrals=query.receives_referrals)
    if repeats:
        agencies = agencies.distinct()
    return keyset_page(
        _with_directory_details(agencies), ordering=DIRECTORY_ORDERING, cursor=cursor
    )


def agency_get_for_directory(*, viewer: Viewer, public_id: UUID) -> Agency:
    if not can_read_directory(viewer):
        raise Http404
    agency = (
        _with_directory_details(Agency.objects.filter(public_id=public_id))
        .prefetch_related(Prefetch("service_area", queryset=Municipality.objects.order_by("code")))
        .first()
    )
    if agency is None:
        raise Http404
    return agency


def agency_get_for_manage(*, viewer: Viewer, public_id: UUID) -> Agency:
    """An agency its admin may change. Another agency's page is a 404, not a 403."""
    agency = (
        Agency.objects.filter(public_id=public_id)
        .select_related("municipality__prefecture")
        .prefetch_related("service_area", "function_entries")
        .first()
    )
    if agency is None or not can_manage_agency(viewer, agency):
        raise Http404
    return agency


def staff_list(*, viewer: Viewer, agency: Agency) -> QuerySet[Membership]:
    if not can_manage_agency(viewer, agency):
        raise Http404
    return (
        Membership.objects.filter(agency=agency)
        .select_related("user", "supporter_profile__dispatching_municipality")
        .order_by("-is_active", "user__full_name_kana", "user__full_name", "id")
    )


def membership_get_for_manage(*, viewer: Viewer, agency: Agency, public_id: UUID) -> Membership:
    membership = staff_list(viewer=viewer, agency=agency).filter(public_id=public_id).first()
    if membership is None:
        raise Http404
    return membership


def agency_list_for_system(*, viewer: Viewer, text: str, cursor: str | None) -> KeysetPage:
    if not can_administer_installation(viewer):
        raise Http404
    agencies = Agency.objects.select_related("municipality")
    for word in text.split():
        agencies = agencies.filter(search_key__contains=search_key(word))
    return keyset_page(agencies, ordering=DIRECTORY_ORDERING, cursor=cursor)


def municipality_list(*, viewer: Viewer, text: str, cursor: str | None) -> KeysetPage:
    if not can_administer_installation(viewer):
        raise Http404
    municipalities = Municipality.objects.select_related("prefecture")
    text = text.strip()
    if text.isdigit():
        municipalities = municipalities.filter(code__startswith=text)
    elif text:
        for word in text.split():
            municipalities = municipalities.filter(search_key__contains=search_key(word))
    return keyset_page(municipalities, ordering=["code"], cursor=cursor, size=100)


def municipality_get_for_system(*, viewer: Viewer, code: str) -> Municipality:
    if not can_administer_installation(viewer):
        raise Http404
    municipality = Municipality.objects.select_related("prefecture").filter(code=code).first()
    if municipality is None:
        raise Http404
    return municipality


def network_list(*, viewer: Viewer) -> QuerySet[Network]:
    if not can_administer_installation(viewer):
        raise Http404
    return (
        Network.objects.select_related("municipality__prefecture", "coordinating_agency")
        .prefetch_related(
            Prefetch("members", queryset=Agency.objects.order_by("name_kana", "name"))
        )
        .order_by("municipality__code", "name", "id")
    )


def network_get_for_system(*, viewer: Viewer, public_id: UUID) -> Network:
    network = network_list(viewer=viewer).filter(public_id=public_id).first()
    if network is None:
        raise Http404
    return network


def own_supporter_membership(*, viewer: Viewer) -> Membership:
    """A supporter sees only their own profile."""
    membership = viewer.membership
    if membership is None or membership.role != "supporter":
        raise Http404
    return (
        Membership.objects.select_related("agency", "supporter_profile__dispatching_municipality")
        .filter(id=membership.id)
        .get()
    )


# --- The agency picker: search as you type, over what the form may accept --------------------

PICK_LIMIT = 15

# A purpose's candidates: the same queryset the form validates against, for this viewer (and
# the request's parameters, e.g. a client). It raises Http404 when the viewer may not choose.
PickCandidates = Callable[[Viewer, QueryDict], QuerySet[Agency]]
_PICK_PURPOSES: dict[str, PickCandidates] = {}


def pick_purpose_register(name: str, candidates: PickCandidates) -> None:
    """Called from the owning app's ``AppConfig.ready()``: consent, referrals and cases build on
    this app, so the agencies app cannot import their selectors; they register them here."""
    if _PICK_PURPOSES.get(name, candidates) is not candidates:
        raise ImproperlyConfigured(f"Agency picker purpose {name!r} is registered twice.")
    _PICK_PURPOSES[name] = candidates


def matching_text(agencies: QuerySet[Agency], text: str) -> QuerySet[Agency]:
    """Every word in the name or kana, insensitive to hiragana/katakana, width and case."""
    for word in text.split():
        agencies = agencies.filter(search_key__contains=search_key(word))
    return agencies


@dataclass(frozen=True)
class PickResult:
    agencies: list[Agency]
    more: bool  # more match than are shown: type more of the name


def agency_pick(
    *, viewer: Viewer, purpose: str, params: QueryDict, text: str, limit: int = PICK_LIMIT
) -> PickResult:
    """At most ``limit`` agencies matching ``text`` among those ``purpose`` offers the viewer."""
    candidates = _PICK_PURPOSES.get(purpose)
    if candidates is None or not can_read_directory(viewer):
        raise Http404
    agencies = candidates(viewer, params)
    if not text.split():
        return PickResult(agencies=[], more=False)
    found = list(
        matching_text(agencies, text)
        .select_related("municipality")
        .order_by(*DIRECTORY_ORDERING)[: limit + 1]
    )
    return PickResult(agencies=found[:limit], more=len(found) > limit)


def network_agencies_to_pick(viewer: Viewer, params: QueryDict) -> QuerySet[Agency]:
    """The picker's "network-agency" purpose (a network's coordinator and members): every
    agency, closed ones too, for system admins."""
    if not can_administer_installation(viewer):
        raise Http404
    return Agency.objects.all()


# --- User accounts, for system admins ----------------------------------------------------------

USER_ORDERING = ["username", "id"]


def user_search(*, viewer: Viewer, text: str, cursor: str | None) -> KeysetPage:
    """User accounts whose name, kana or user name contains every word typed, a keyset page at
    a time (there may be tens of thousands of staff); system admins only."""
    if not can_administer_installation(viewer):
        raise Http404
    users = User.objects.only(
        "id",
        "username",
        "full_name",
        "full_name_kana",
        "is_active",
        "is_system_admin",
        "last_login",
    )
    for word in text.split():
        kana = to_katakana(word)
        users = users.filter(
            Q(username__icontains=word)
            | Q(full_name__icontains=word)
            | Q(full_name_kana__icontains=kana)
        )
    return keyset_page(users, ordering=USER_ORDERING, cursor=cursor)


def user_account_get(*, viewer: Viewer, user_id: int) -> User:
    """One user account with its memberships (agency and role, active or not); system admins
    only, anyone else and an unknown id get a 404."""
    if not can_administer_installation(viewer):
        raise Http404
    memberships = Membership.objects.select_related("agency").order_by(
        "-is_active", "agency__name_kana", "agency__name", "id"
    )
    user = (
        User.objects.prefetch_related(Prefetch("memberships", queryset=memberships))
        .filter(pk=user_id)
        .first()
    )
    if user is None:
        raise Http404
    return user
