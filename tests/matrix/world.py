"""The world both URL matrices request, built through the services once per test module.

``world_for_module`` builds it in one transaction rolled back when the module ends (other tests
on the same database never see it); each test then runs in a savepoint of its own
(``django_db``), rolled back after it, so a permitted POST leaves the world as it found it.
Under pytest-xdist each worker builds its own copy, in its own test database.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_agency, make_user, municipality, viewer_for
from tests.second_factor import verify_session

from .personas import (
    BASIC,
    CONSULTATION,
    COUNCIL_SHARED,
    EMERGENCY_SHARED,
    EMERGENCY_TO,
    HOUSEHOLD,
    PERSONAS,
    PLAN,
    SENT,
    STAFF,
    STATES,
    sentinels,
)


def _staff(agencies: dict) -> dict:
    from agencies.models import Role
    from agencies.services import membership_ensure

    roles = {
        "caseworker": (Role.CASEWORKER, False),
        "supervisor": (Role.SUPERVISOR, False),
        "supporter": (Role.SUPPORTER, False),
        "roster_admin": (Role.ADMINISTRATIVE, True),
        "roster_caseworker": (Role.CASEWORKER, True),
        "dispatched": (Role.SUPPORTER, False),
    }
    users = {}
    for persona in STAFF:
        agency, role = persona.split("-")
        user = make_user(f"gate-{agency}-{role}", f"{agency}機関 {role}")
        membership_ensure(
            actor=None,
            user=user,
            agency=agencies[agency],
            role=roles[role][0],
            is_roster_admin=roles[role][1],
        )
        users[persona] = user
    users["sysadmin"] = make_user("gate-sysadmin", "システム管理者", system_admin=True)
    return users


def _referral(*, client, to, kind: str, categories, sender, answerer):
    from referrals.services import referral_accept, referral_draft, referral_send

    referral = referral_draft(
        viewer=viewer_for(sender),
        client=client,
        fields={
            "type": kind,
            "to_agency": to,
            "reason": "世帯の困りごと",
            "client_wishes": "一緒に考えてほしい",
            "categories": list(categories),
        },
    )
    referral_send(viewer=viewer_for(sender), referral=referral)
    return referral_accept(viewer=viewer_for(answerer), referral=referral)


def _client(state: str, *, agencies: dict, users: dict, session) -> dict:
    """One client of H in ``state``, linked to L and J; the sentinels written after sending."""
    from cases.services import (
        case_open,
        client_create,
        client_update,
        consultation_log,
        home_visit_log,
        household_member_save,
        household_save,
        meeting_case_record,
        meeting_save,
        plan_create,
        plan_goal_save,
        plan_item_save,
        plan_update,
        supporter_assign,
    )
    from consent.models import Consent
    from consent.services import consent_record, consent_withdraw, emergency_disclose
    from councils.services import agenda_item_add

    number = STATES.index(state) + 1
    worker = users["H-caseworker"]
    hv = viewer_for(worker)
    today = timezone.localdate()
    client = client_create(
        viewer=hv,
        duplicate_confirmed=True,
        fields={
            "full_name": f"山川 {'一二三四五'[number - 1]}郎",
            "full_name_kana": "ヤマカワ タロウ",
            "birth_date": date(1980 + number, 4, 1),
            "phone": f"090-1000-000{number}",
        },
    )
    household_save(viewer=hv, client=client, postal_code="", address="", note="")
    client.refresh_from_db()
    member = household_member_save(
        viewer=hv,
        client=client,
        member=None,
        fields={"name": "母", "relationship": "mother", "birth_year": 1950, "lives_together": True},
    )
    case = case_open(
        viewer=hv,
        client=client,
        fields={"origin": "family", "support_type": "no_plan", "withdrawal_duration": "10y"},
        topics=["hikikomori", "family"],
        main_topic="hikikomori",
        primary_worker=worker,
    )
    consultation_log(viewer=hv, case=case, fields={"method": "phone", "summary": "母からの電話"})
    plan = plan_create(viewer=hv, case=case, client_words="まだ決めていない")
    goal = plan_goal_save(viewer=hv, plan=plan, goal=None, text="週1回外出する")
    item = plan_item_save(
        viewer=hv, plan=plan, item=None, fields={"what": "見守り", "agency": agencies["H"]}
    )
    # a second item, so that a reorder has something to move
    item2 = plan_item_save(
        viewer=hv, plan=plan, item=None, fields={"what": "面談", "agency": agencies["H"]}
    )

    # The consents the referrals rest on, to L and to J.
    categories = SENT[state]
    consents = []
    for to, purpose in (("L", "referral"), ("J", "joint_support")):
        consents.append(
            consent_record(
                viewer=hv,
                client=client,
                recipient=agencies[to],
                purpose=purpose,
                categories=list(categories),
                method="written",
                obtained_on=today - timedelta(days=400) if state == "expired" else None,
                valid_until=today if state == "expired" else None,
            )
        )
    referral_l = _referral(
        client=client,
        to=agencies["L"],
        kind="tsunagi",
        categories=categories,
        sender=worker,
        answerer=users["L-supervisor"],
    )
    referral_j = _referral(
        client=client,
        to=agencies["J"],
        kind="joint",
        categories=categories,
        sender=worker,
        answerer=users["J-supervisor"],
    )
    ids = [c.pk for c in consents]
    if state == "withdrawn":
        for consent in consents:
            consent_withdraw(viewer=hv, consent=consent, how="電話で撤回の申し出")
    elif state == "expired":
        # It ran out yesterday (the rows as the service writes a consent that ended then).
        Consent.objects.filter(pk__in=ids).update(valid_until=today - timedelta(days=1))
    elif state in ("none", "emergency"):
        # No consent to L or J at all: the links stay, the consent rows the referrals rested
        # on are gone (the provision records name them by public id only).
        Consent.objects.filter(pk__in=ids).delete()
    if state == "emergency":
        for to in EMERGENCY_TO:
            emergency_disclose(
                viewer=hv,
                client=client,
                recipient=agencies[to],
                categories=list(EMERGENCY_SHARED),
                reason="本人の生命に危険があり、同意を得る時間がない",
            )
    # P has no staff: its consent and disclosure only give the consent pages something to open.
    consent_p = consent_record(
        viewer=hv,
        client=client,
        recipient=agencies["P"],
        purpose="meeting",
        categories=[BASIC],
        method="oral",
    )
    emergency_p = emergency_disclose(
        viewer=hv, client=client, recipient=agencies["P"], categories=[BASIC], reason="安否確認"
    )
    agenda = agenda_item_add(
        viewer=hv,
        session=session,
        client=client,
        categories=list(COUNCIL_SHARED),
        reason="地域で見守りが必要",
    )
    meeting = meeting_save(
        viewer=hv,
        meeting=None,
        fields={"held_on": today},
        participant_agencies=[],
        participant_users=[worker],
    )
    meeting_case_record(
        viewer=hv,
        meeting=meeting,
        case=case,
        plan=None,
        decisions=[],
        next_review_on=None,
        note="",
    )
    dispatched = users["H-dispatched"]
    assignment = supporter_assign(viewer=hv, client=client, supporter=dispatched.memberships.get())
    visit = home_visit_log(
        viewer=viewer_for(dispatched),
        client=client,
        fields={"outcome": "met_family", "is_urgent": True, "urgent_note": "母が体調不良"},
    )

    # The live record moves on: only from now on does it hold the sentinels.
    marks = sentinels(state)
    client_update(
        viewer=hv, client=client, fields={"full_name": marks[BASIC][0], "phone": marks[BASIC][1]}
    )
    consultation = consultation_log(
        viewer=hv,
        case=case,
        fields={
            "method": "home_visit",
            "summary": marks[CONSULTATION][0],
            "notes": marks[CONSULTATION][1],
        },
    )
    plan_update(viewer=hv, plan=plan, client_words=marks[PLAN][0], review_on=None)
    household_save(viewer=hv, client=client, postal_code="", address="", note=marks[HOUSEHOLD][0])
    return {
        "client": client.public_id,
        "client_pk": client.pk,
        "case": case.public_id,
        "consultation": consultation.public_id,
        "plan": plan.public_id,
        "goal": goal.id,
        "item": item.id,
        "item2": item2.id,
        "member": member.id,
        "consent": consent_p.public_id,
        "emergency": emergency_p.public_id,
        "meeting": meeting.public_id,
        "assignment": assignment.id,
        "visit": visit.public_id,
        "agenda": agenda.public_id,
        "referral_L": referral_l.public_id,
        "referral_J": referral_j.public_id,
        "consents": ids,
    }


def _former_staff(agency, users: dict):
    """A deactivated member of H: the roster's reactivate button has someone to bring back."""
    from agencies.models import Role
    from agencies.services import membership_ensure, staff_deactivate

    user = make_user("gate-H-former", "H機関 退職者")
    membership_ensure(actor=None, user=user, agency=agency, role=Role.CASEWORKER)
    membership = user.memberships.get()
    staff_deactivate(viewer=viewer_for(users["H-roster_admin"]), membership=membership)
    return membership


def build() -> dict:
    from agencies.permissions import Viewer
    from agencies.services import network_save
    from councils.services import council_create, council_member_add, council_session_create

    nagano = municipality(
        "202011", "長野市", "city", municipality("200000", "長野県", "prefecture")
    )
    agencies = {
        "H": make_agency("自立相談支援機関H", "ジリツソウダンエイチ", "self_reliance"),
        "L": make_agency("ひきこもり支援ステーションL", "ヒキコモリエル", "hikikomori_station"),
        "J": make_agency("ひきこもり地域支援センターJ", "ヒキコモリジェイ", "hikikomori_center"),
        "C": make_agency("社会福祉協議会C", "シャカイフクシシー", "social_welfare_council"),
        "U": make_agency("NPO法人U", "エヌピーオーユー", "npo"),
        "P": make_agency("保健所P", "ホケンジョピー", "public_health_center"),
    }
    users = _staff(agencies)
    system = Viewer(user=users["sysadmin"], membership=None)
    council = council_create(
        viewer=system,
        municipality=nagano,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=agencies["H"],
        established_on=timezone.localdate() - timedelta(days=30),
    )
    member_c = council_member_add(
        viewer=viewer_for(users["H-supervisor"]),
        council=council,
        agency=agencies["C"],
        joined_on=timezone.localdate() - timedelta(days=30),
    )
    session = council_session_create(
        viewer=viewer_for(users["H-supervisor"]), council=council, held_on=timezone.localdate()
    )
    network = network_save(
        viewer=system,
        network=None,
        fields={
            "name": "長野市プラットフォーム",
            "kind": "municipal_platform",
            "municipality": nagano,
            "coordinating_agency": agencies["H"],
        },
        members=[],
    )
    former = _former_staff(agencies["H"], users)
    states = {
        state: _client(state, agencies=agencies, users=users, session=session) for state in STATES
    }
    return {
        "agencies": agencies,
        "users": users,
        "states": states,
        "H_id": agencies["H"].public_id,
        "H_pk": agencies["H"].pk,
        "L_id": agencies["L"].public_id,
        "H_cw_membership": users["H-caseworker"].memberships.get().public_id,
        "H_former_membership": former.public_id,
        "H_former_user": former.user_id,
        "L_cw_user": users["L-caseworker"].pk,
        "network_id": network.public_id,
        "council_id": council.public_id,
        "session_id": session.public_id,
        "C_member": member_c.id,
    }


def _log_in(users: dict) -> dict[str, str]:
    """A session per persona, acting as its agency (as the login flow leaves it)."""
    cookies = {}
    for persona, user in users.items():
        if persona not in PERSONAS:
            continue
        client = HttpClient()
        client.force_login(user)
        verify_session(client, user)  # supervisors and admins log in with a second factor
        client.get(reverse("agencies:choose"))
        cookies[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


@contextmanager
def world_for_module(django_db_blocker) -> Iterator[dict]:
    """The world, built for a module in a transaction rolled back at its end.

    Sessions live in signed cookies here, so a request spends no query on its session (the
    matrices make thousands); who the viewer is still comes from the session, as in production.
    404s are not logged as warnings: thousands of them are expected."""
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            # Each persona's cookie is the one made at login, sent again and again: the session
            # never records activity, so a long run (a busy machine) would reach the idle
            # timeout and turn every page into the login. Timeouts are tested in test_sessions.
            TSUNAGU_SESSION_IDLE=timedelta(days=1),
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build()
            world["cookies"] = _log_in(world["users"])
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_log.setLevel(level)
