"""Every view × every persona: who gets the page, who gets a 404, who is sent to log in.

A new URL that is not in the matrix fails ``test_every_view_is_in_the_matrix``.

Personas: 田中 tanaka (caseworker, station A), 山田 yamada (caseworker and roster admin, A),
加藤 kato (administrative staff and roster admin, A: no client access), 伊藤 ito (supporter, A),
鈴木 suzuki (supervisor, 自立相談 B), and a system admin without any agency.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import login_as

OK, NOT_FOUND, LOGIN, REDIRECT = 200, 404, "login", 302

PERSONAS = ["anonymous", "tanaka", "yamada", "kato", "ito", "suzuki", "sysadmin"]


def row(anonymous, tanaka, yamada, kato, ito, suzuki, sysadmin) -> dict:
    """One line of the matrix, personas in the order of PERSONAS."""
    return dict(
        zip(PERSONAS, (anonymous, tanaka, yamada, kato, ito, suzuki, sysadmin), strict=True)
    )


EVERYONE = dict.fromkeys(PERSONAS, OK)
SIGNED_IN = row(LOGIN, OK, OK, OK, OK, OK, OK)
# POST-only actions answer a GET with 405 (it reveals nothing); their POSTs are tested apart.
POST_ONLY = dict.fromkeys(PERSONAS, 405) | {"anonymous": LOGIN}
# Station A's own roster pages: its roster admins and system admins.
STATION_A_ROSTER = row(LOGIN, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND, OK)
# The installation's administration: system admins only.
SYSTEM_ONLY = row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)
# Client work in one's own agency: caseworkers and supervisors.
CLIENT_WORK = row(LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)
# A client record of station A: its caseworkers only; another agency's staff get a 404.
STATION_A_CLIENT = row(LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
STATION_A_CLIENT_REDIRECT = row(LOGIN, REDIRECT, REDIRECT, *[NOT_FOUND] * 4)
# A referral between station A and 自立相談 B: the staff of both sides.
BOTH_SIDES = row(LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)
# A 支援会議 (station A and 自立相談 B members, B the secretariat): members' client staff and
# system admins; only the secretariat's supervisors (and system admins) run it.
COUNCIL_MEMBERS = row(LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, OK, OK)
COUNCIL_SECRETARIAT = row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK)
# The supporter's own screens.
SUPPORTER_ONLY = row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND)


def a(*keys):
    """Arguments for reverse(), taken from the fixtures by name."""
    return lambda f: [f[key] for key in keys]


# name: (args builder or None, {persona: expected status})
MATRIX = {
    "home": (None, row(LOGIN, REDIRECT, REDIRECT, OK, REDIRECT, REDIRECT, OK)),
    "health": (None, EVERYONE),
    "login": (None, row(OK, *[REDIRECT] * 6)),
    "password_change": (None, SIGNED_IN),
    "password_change_done": (None, SIGNED_IN),
    "password_reset_complete": (None, EVERYONE),
    "agencies:choose": (None, row(LOGIN, OK, OK, OK, OK, OK, REDIRECT)),
    "agencies:directory": (None, row(LOGIN, OK, OK, OK, NOT_FOUND, OK, OK)),
    "agencies:detail": (a("jiritsu_b_id"), row(LOGIN, OK, OK, OK, NOT_FOUND, OK, OK)),
    # The agency picker's search, for the consent forms: those who work with clients
    "agencies:pick": (lambda f: ["consent-recipient"], CLIENT_WORK),
    "agencies:roster_home": (
        None,
        row(LOGIN, NOT_FOUND, REDIRECT, REDIRECT, NOT_FOUND, NOT_FOUND, REDIRECT),
    ),
    "agencies:my_supporter_profile": (
        None,
        row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND),
    ),
    "agencies:manage": (a("station_a_id"), STATION_A_ROSTER),
    "agencies:profile_edit": (a("station_a_id"), STATION_A_ROSTER),
    "agencies:staff_invite": (a("station_a_id"), STATION_A_ROSTER),
    "agencies:staff_edit": (a("station_a_id", "tanaka_membership"), STATION_A_ROSTER),
    "agencies:staff_deactivate": (a("station_a_id", "tanaka_membership"), POST_ONLY),
    "agencies:staff_reactivate": (a("station_a_id", "tanaka_membership"), POST_ONLY),
    "agencies:system_agencies": (None, SYSTEM_ONLY),
    "agencies:system_agency_create": (None, SYSTEM_ONLY),
    "agencies:system_municipalities": (None, SYSTEM_ONLY),
    "agencies:system_municipality_edit": (lambda f: ["202011"], SYSTEM_ONLY),
    "agencies:system_networks": (None, SYSTEM_ONLY),
    "agencies:system_network_create": (None, SYSTEM_ONLY),
    "agencies:system_network_edit": (a("network_id"), SYSTEM_ONLY),
    "agencies:system_import": (None, SYSTEM_ONLY),
    "agencies:system_export_municipalities": (None, SYSTEM_ONLY),
    "agencies:system_export_agencies": (None, SYSTEM_ONLY),
    "audit:list": (None, SYSTEM_ONLY),
    "cases:caseload": (None, CLIENT_WORK),
    "cases:client_search": (None, CLIENT_WORK),
    # the client picker of the forms (支援会議 agenda, household member)
    "cases:client_pick": (None, CLIENT_WORK),
    "cases:client_create": (None, CLIENT_WORK),
    "cases:client": (a("client_id"), STATION_A_CLIENT),
    "cases:client_edit": (a("client_id"), STATION_A_CLIENT),
    "cases:client_timeline": (a("client_id"), STATION_A_CLIENT),
    # The client page's sections that load when opened (the access log is empty for all but
    # the holding agency's supervisors)
    "consent:client_consents": (a("client_id"), STATION_A_CLIENT),
    "consent:client_emergencies": (a("client_id"), STATION_A_CLIENT),
    "councils:client_councils": (a("client_id"), STATION_A_CLIENT),
    "cases:client_access_log": (a("client_id"), STATION_A_CLIENT),
    "cases:client_supporters": (a("client_id"), STATION_A_CLIENT),
    "referrals:client_referrals": (a("client_id"), STATION_A_CLIENT),
    "cases:client_case_history": (a("client_id"), STATION_A_CLIENT),
    "cases:client_first_contact": (a("client_id"), POST_ONLY),
    "cases:household_edit": (a("client_id"), STATION_A_CLIENT),
    "cases:member_add": (a("client_id"), STATION_A_CLIENT),
    "cases:member_edit": (a("client_id", "member_id"), STATION_A_CLIENT),
    "cases:member_remove": (a("client_id", "member_id"), POST_ONLY),
    "cases:case_open": (a("client_id"), STATION_A_CLIENT),
    "cases:case_edit": (a("case_id"), STATION_A_CLIENT),
    "cases:case_stage": (a("case_id"), STATION_A_CLIENT),
    "cases:case_close": (a("case_id"), STATION_A_CLIENT),
    "cases:case_reopen": (a("case_id"), STATION_A_CLIENT),
    "cases:consultation_new": (a("case_id"), STATION_A_CLIENT),
    "cases:consultation": (a("consultation_id"), STATION_A_CLIENT),
    "cases:consultation_edit": (a("consultation_id"), STATION_A_CLIENT),
    # Plans (a draft plan of station A's client)
    "cases:plan_create": (a("case_id"), POST_ONLY),
    "cases:plan": (a("plan_id"), STATION_A_CLIENT),
    "cases:plan_update": (a("plan_id"), POST_ONLY),
    "cases:plan_goal_add": (a("plan_id"), POST_ONLY),
    "cases:plan_goal_edit": (a("plan_id", "goal_id"), STATION_A_CLIENT),
    "cases:plan_goal_remove": (a("plan_id", "goal_id"), POST_ONLY),
    "cases:plan_item_add": (a("plan_id"), POST_ONLY),
    "cases:plan_items_reorder": (a("plan_id"), POST_ONLY),
    "cases:plan_item_edit": (a("plan_id", "item_id"), STATION_A_CLIENT),
    "cases:plan_item_remove": (a("plan_id", "item_id"), POST_ONLY),
    "cases:plan_agree": (a("plan_id"), STATION_A_CLIENT),
    # a draft cannot be revised or reviewed yet: its staff are sent back to it
    "cases:plan_revise": (a("plan_id"), STATION_A_CLIENT_REDIRECT),
    "cases:plan_review": (a("plan_id"), STATION_A_CLIENT_REDIRECT),
    "cases:plan_print": (a("plan_id"), STATION_A_CLIENT),
    # 支援調整会議 (hosted by station A)
    "cases:meetings": (None, CLIENT_WORK),
    "cases:meeting_create": (None, CLIENT_WORK),
    "cases:meeting": (a("meeting_id"), STATION_A_CLIENT),
    "cases:meeting_edit": (a("meeting_id"), STATION_A_CLIENT),
    "cases:meeting_case": (a("meeting_id"), STATION_A_CLIENT),
    "cases:meeting_print": (a("meeting_id"), STATION_A_CLIENT),
    # Supporters: 伊藤 is dispatched to station A's client
    "cases:supporter_assign": (a("client_id"), STATION_A_CLIENT),
    "cases:supporter_unassign": (a("assignment_id"), POST_ONLY),
    "cases:visit_acknowledge": (a("visit_id"), POST_ONLY),
    "cases:my_households": (None, SUPPORTER_ONLY),
    "cases:my_household": (a("client_id"), SUPPORTER_ONLY),
    # Consent: the holding agency only
    "consent:new": (a("client_id"), STATION_A_CLIENT),
    "consent:detail": (a("consent_id"), STATION_A_CLIENT),
    # this consent has no scan, so there is nothing to download even for its holder; the
    # download itself is walked through in test_consent_views
    "consent:scan": (a("consent_id"), row(LOGIN, *[NOT_FOUND] * 6)),
    "consent:withdraw": (a("consent_id"), POST_ONLY),
    "consent:emergency_new": (a("client_id"), STATION_A_CLIENT),
    "consent:emergency_list": (None, CLIENT_WORK),
    "consent:emergency_detail": (a("emergency_id"), STATION_A_CLIENT),
    "consent:emergency_review": (a("emergency_id"), POST_ONLY),
    "consent:emergency_end": (a("emergency_id"), POST_ONLY),
    # The live view: the holder is sent to its own page; 自立相談 B, linked by the accepted
    # joint referral, sees what the consent covers (and the emergency disclosure)
    "referrals:shared_record": (
        a("client_id"),
        row(LOGIN, REDIRECT, REDIRECT, *[NOT_FOUND] * 2, OK, NOT_FOUND),
    ),
    # Referrals: a joint-support referral from station A, accepted by 自立相談 B
    "referrals:new": (a("client_id"), STATION_A_CLIENT),
    "referrals:detail": (a("referral_id"), BOTH_SIDES),
    "referrals:edit": (a("referral_id"), row(LOGIN, REDIRECT, REDIRECT, *[NOT_FOUND] * 4)),
    "referrals:print": (a("referral_id"), STATION_A_CLIENT),
    "referrals:send": (a("referral_id"), POST_ONLY),
    "referrals:withdraw": (a("referral_id"), POST_ONLY),
    "referrals:message_post": (a("referral_id"), POST_ONLY),
    "referrals:accept": (a("referral_id"), POST_ONLY),
    "referrals:decline": (a("referral_id"), POST_ONLY),
    "referrals:first_contact": (a("referral_id"), POST_ONLY),
    "referrals:records": (None, CLIENT_WORK),
    "referrals:records_csv": (None, CLIENT_WORK),
    "referrals:client_records": (a("client_id"), STATION_A_CLIENT),
    "referrals:incoming": (None, row(LOGIN, *[NOT_FOUND] * 4, OK, NOT_FOUND)),
    "referrals:outgoing": (None, CLIENT_WORK),
    "referrals:assign": (None, POST_ONLY),
    "referrals:joint": (a("referral_id"), BOTH_SIDES),
    "referrals:joint_role": (a("referral_id"), POST_ONLY),
    "referrals:joint_policy": (a("referral_id"), POST_ONLY),
    # 支援会議 of 長野市 run by 自立相談 B (secretariat), station A a member, 山本 on the agenda:
    # the members' caseworkers and supervisors; the secretariat's supervisors run it
    "councils:list": (None, COUNCIL_MEMBERS),
    "councils:create": (None, SYSTEM_ONLY),
    "councils:detail": (a("council_id"), COUNCIL_MEMBERS),
    "councils:edit": (a("council_id"), SYSTEM_ONLY),
    "councils:end": (a("council_id"), POST_ONLY),
    "councils:member_add": (a("council_id"), COUNCIL_SECRETARIAT),
    "councils:member_leave": (a("council_id", "council_member_id"), POST_ONLY),
    "councils:session_create": (a("council_id"), COUNCIL_SECRETARIAT),
    "councils:session": (a("council_session_id"), COUNCIL_MEMBERS),
    "councils:session_edit": (a("council_session_id"), COUNCIL_SECRETARIAT),
    "councils:minutes": (a("council_session_id"), COUNCIL_SECRETARIAT),
    "councils:agenda_add": (a("council_session_id"), CLIENT_WORK),
    "councils:agenda_withdraw": (a("agenda_item_id"), POST_ONLY),
    # Reminders: everyone signed in has their own (possibly empty) notification centre
    "reminders:list": (None, SIGNED_IN),
    "reminders:badge": (None, SIGNED_IN),
    "reminders:read": (lambda f: ["00000000-0000-0000-0000-000000000000"], POST_ONLY),
    "reminders:read_all": (None, POST_ONLY),
    "reminders:preferences": (None, SIGNED_IN),
    "reminders:agency_settings": (a("station_a_id"), STATION_A_ROSTER),
}

# Views outside the matrix on purpose, with the reason.
EXCLUDED = {
    "set_language": "POST-only language switch, open to everyone by design",
    "logout": "POST-only; logging out is open to everyone",
    "password_reset_confirm": "needs a one-time token; covered in test_roster",
}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the Django admin: covered by test_accounts
            names |= _names(
                pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_view_is_in_the_matrix():
    assert _names(get_resolver()) - set(EXCLUDED) == set(MATRIX)


@pytest.fixture
def network(sysadmin, jiritsu_b, nagano_city):
    from agencies.permissions import Viewer
    from agencies.services import network_save

    return network_save(
        viewer=Viewer(user=sysadmin, membership=None),
        network=None,
        fields={
            "name": "プラットフォーム",
            "kind": "municipal_platform",
            "municipality": nagano_city,
            "coordinating_agency": jiritsu_b,
        },
        members=[],
    )


def council_world(request, station_a, jiritsu_b, tanaka, client) -> dict:
    """長野市's 支援会議 run by 自立相談 B, station A a member, 山本 on today's session."""
    from agencies.permissions import Viewer
    from councils.services import (
        agenda_item_add,
        council_create,
        council_member_add,
        council_session_create,
    )
    from tests.conftest import viewer_for

    suzuki = viewer_for(request.getfixturevalue("suzuki"))
    council = council_create(
        viewer=Viewer(user=request.getfixturevalue("sysadmin"), membership=None),
        municipality=request.getfixturevalue("nagano_city"),
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=jiritsu_b,
    )
    member = council_member_add(viewer=suzuki, council=council, agency=station_a)
    session = council_session_create(viewer=suzuki, council=council, held_on=member.joined_on)
    item = agenda_item_add(
        viewer=viewer_for(tanaka),
        session=session,
        client=client,
        categories=["basic"],
        reason="世帯の困窮",
    )
    return {
        "council_id": council.public_id,
        "council_member_id": member.id,
        "council_session_id": session.public_id,
        "agenda_item_id": item.public_id,
    }


@pytest.fixture
def world(request, station_a, jiritsu_b, tanaka, yamamoto_case):
    """Everything the URLs need, built through the services."""
    from cases.services import (
        consultation_log,
        home_visit_log,
        household_save,
        meeting_save,
        plan_create,
        plan_goal_save,
        plan_item_save,
        supporter_assign,
    )
    from consent.services import consent_record, emergency_disclose
    from referrals.services import referral_accept, referral_draft, referral_send
    from tests.conftest import viewer_for

    viewer = viewer_for(tanaka)
    ito = request.getfixturevalue("ito")
    suzuki = request.getfixturevalue("suzuki")
    client = yamamoto_case.client
    consent = consent_record(
        viewer=viewer,
        client=client,
        recipient=jiritsu_b,
        purpose="joint_support",
        categories=["basic", "consultation"],
        method="written",
    )
    referral = referral_draft(
        viewer=viewer,
        client=client,
        fields={
            "type": "joint",
            "to_agency": jiritsu_b,
            "reason": "共同で支援",
            "client_wishes": "両方に相談したい",
            "categories": ["basic", "consultation"],
        },
    )
    referral_send(viewer=viewer, referral=referral)
    referral_accept(viewer=viewer_for(suzuki), referral=referral)
    plan = plan_create(viewer=viewer, case=yamamoto_case, client_words="外に出たい")
    goal = plan_goal_save(viewer=viewer, plan=plan, goal=None, text="週1回外出する")
    item = plan_item_save(
        viewer=viewer, plan=plan, item=None, fields={"what": "見守り", "agency": station_a}
    )
    meeting = meeting_save(
        viewer=viewer,
        meeting=None,
        fields={"held_on": yamamoto_case.opened_on},
        participant_agencies=[],
        participant_users=[tanaka],
    )
    assignment = supporter_assign(
        viewer=viewer, client=yamamoto_case.client, supporter=ito.memberships.get()
    )
    visit = home_visit_log(
        viewer=viewer_for(ito),
        client=yamamoto_case.client,
        fields={"outcome": "met_family", "is_urgent": True, "urgent_note": "体調が悪い"},
    )
    household = household_save(
        viewer=viewer, client=yamamoto_case.client, postal_code="", address="", note=""
    )
    consultation = consultation_log(
        viewer=viewer, case=yamamoto_case, fields={"method": "phone", "summary": "電話"}
    )
    users = {p: request.getfixturevalue(p) for p in PERSONAS if p != "anonymous"}
    return {
        **users,
        **council_world(request, station_a, jiritsu_b, tanaka, yamamoto_case.client),
        "station_a_id": station_a.public_id,
        "jiritsu_b_id": jiritsu_b.public_id,
        "tanaka_membership": tanaka.memberships.get().public_id,
        "network_id": request.getfixturevalue("network").public_id,
        "client_id": yamamoto_case.client.public_id,
        "member_id": household.members.get().id,
        "case_id": yamamoto_case.public_id,
        "consultation_id": consultation.public_id,
        "plan_id": plan.public_id,
        "goal_id": goal.id,
        "item_id": item.id,
        "meeting_id": meeting.public_id,
        "assignment_id": assignment.id,
        "visit_id": visit.public_id,
        "consent_id": consent.public_id,
        "referral_id": referral.public_id,
        "emergency_id": emergency_disclose(
            viewer=viewer,
            client=yamamoto_case.client,
            recipient=jiritsu_b,
            categories=["basic"],
            reason="命に関わる状況のため",
        ).public_id,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(client, world, name, persona):
    args_builder, expected = MATRIX[name]
    url = reverse(name, args=args_builder(world) if args_builder else None)
    if persona != "anonymous":
        login_as(client, world[persona])

    response = client.get(url)

    want = expected[persona]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == want, f"{persona} GET {url}"


# The agency picker's search, one row per purpose: the page that uses it decides who may (a
# 404 for anyone else). purpose: (GET parameters builder or None, {persona: expected status})
PICK_MATRIX = {
    "consent-recipient": (None, CLIENT_WORK),
    "referral-recipient": (None, CLIENT_WORK),
    # the quick entry and correction, a plan's support item, a 支援調整会議's participants
    "consultation-partner": (None, CLIENT_WORK),
    "plan-agency": (None, CLIENT_WORK),
    "meeting-participant": (None, CLIENT_WORK),
    # setting up a 支援会議; adding a member to 長野市's (its secretariat is 自立相談 B)
    "council-chair": (None, SYSTEM_ONLY),
    "council-member": (lambda f: {"council": f["council_id"]}, COUNCIL_SECRETARIAT),
    # a network's coordinator and members (the installation's administration)
    "network-agency": (None, SYSTEM_ONLY),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("purpose", sorted(PICK_MATRIX))
def test_agency_picker_permission_matrix(client, world, purpose, persona):
    params_builder, expected = PICK_MATRIX[purpose]
    params = {"q": "じりつ", **(params_builder(world) if params_builder else {})}
    if persona != "anonymous":
        login_as(client, world[persona])

    response = client.get(reverse("agencies:pick", args=[purpose]), params)

    want = expected[persona]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == want, f"{persona} picks for {purpose}"


@pytest.mark.django_db
def test_the_council_member_picker_is_a_404_without_a_council_or_with_a_bad_one(client, world):
    login_as(client, world["suzuki"])
    url = reverse("agencies:pick", args=["council-member"])
    for params in ({}, {"council": "not-a-uuid"}, {"council": str(world["case_id"])}):
        assert client.get(url, {"q": "じりつ", **params}).status_code == NOT_FOUND, params


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("tanaka", NOT_FOUND),
        ("ito", NOT_FOUND),
        ("suzuki", NOT_FOUND),
        ("yamada", REDIRECT),
        ("sysadmin", REDIRECT),
    ],
)
def test_only_the_agency_admin_and_system_admins_may_deactivate_staff(
    request, client, persona, expected, station_a, tanaka
):
    membership = tanaka.memberships.get()
    login_as(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("agencies:staff_deactivate", args=[station_a.public_id, membership.public_id])
    )

    assert response.status_code == expected
    membership.refresh_from_db()
    assert membership.is_active is (expected == NOT_FOUND)
