"""Two-factor login (issue 15): TOTP from an authenticator app and ten backup codes.

Who must: system admins, supervisors and roster admins always, anyone whose agency asks it.
These tests go through the real flow (the login form, the code page, the enrolment); the rest
of the suite logs in with ``force_login``, which passes the second factor for those who must
(tests.second_factor) — enforcement is never switched off.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuthenticationEvent, AuthenticationEventKind
from accounts.reauth import AUTHENTICATED_AT
from accounts.two_factor.services import normalise_code
from audit.models import AuditEntry
from tests.conftest import PASSWORD, login_as
from tests.second_factor import authenticator_for, device_code, secret_code, totp_code

pytestmark = pytest.mark.django_db

Kind = AuthenticationEventKind


@pytest.fixture
def no_throttle(settings):
    # django-otp makes each try after a wrong code wait 1, 2, 4 … seconds; tests that send
    # several codes in a row would wait for it. One test below checks the wait itself.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def post_password(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def path_of(response) -> str:
    return urlsplit(response["Location"]).path


def reaches_home(client) -> bool:
    """The dashboard (or the page it sends this role to) opens: no code page, no enrolment."""
    response = client.get(reverse("home"), follow=True)
    stops = [urlsplit(url).path for url, _ in response.redirect_chain]
    blocked = {reverse("two_factor:enrol"), reverse("two_factor:verify"), reverse("login")}
    return response.status_code == 200 and not blocked & set(stops)


def events(user) -> list[str]:
    return list(
        AuthenticationEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


def enrol(client) -> tuple[TOTPDevice, list[str]]:
    """Through the enrolment page: the secret read from it, the code computed from it."""
    page = client.get(reverse("two_factor:enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', page).group(1)
    response = client.post(reverse("two_factor:enrol"), {"code": secret_code(secret)})
    assert path_of(response) == reverse("two_factor:backup_codes")
    codes = re.findall(
        r'<li class="backup-code">([a-z2-7]{4} [a-z2-7]{4})</li>',
        client.get(response["Location"]).content.decode(),
    )
    return TOTPDevice.objects.get(user_id=client.session["_auth_user_id"]), codes


# --- Who must -------------------------------------------------------------------------------------


def test_a_supervisor_without_an_authenticator_is_sent_to_enrolment_and_reaches_nothing_else(
    suzuki,
):
    client = Client()
    response = post_password(client, "suzuki")
    assert logged_in(client)  # the password alone logs in: there is no second factor to ask

    for path in [reverse("home"), reverse("agencies:choose"), reverse("two_factor:manage")]:
        blocked = client.get(path)
        assert blocked.status_code == 302
        assert path_of(blocked) == reverse("two_factor:enrol")
    assert (
        client.get(response["Location"], follow=True)
        .redirect_chain[-1][0]
        .startswith(reverse("two_factor:enrol"))
    )
    # A fragment asked by htmx gets the whole page sent to the enrolment, not swapped in.
    fragment = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert fragment["HX-Redirect"].startswith(reverse("two_factor:enrol"))
    # The logout still works.
    client.post(reverse("logout"))
    assert not logged_in(client)


def test_enrolment_comes_back_to_the_page_asked_for(suzuki):
    client = Client()
    client.post(
        reverse("login") + "?next=/accounts/two-factor/",
        {"username": "suzuki", "password": PASSWORD, "next": "/accounts/two-factor/"},
    )
    blocked = client.get("/accounts/two-factor/")
    assert blocked["Location"] == reverse("two_factor:enrol") + "?next=%2Faccounts%2Ftwo-factor%2F"
    page = client.get(blocked["Location"]).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', page).group(1)
    confirmed = client.post(
        reverse("two_factor:enrol"),
        {"code": secret_code(secret), "next": "/accounts/two-factor/"},
    )
    codes_page = client.get(confirmed["Location"]).content.decode()
    assert 'href="/accounts/two-factor/"' in codes_page
    assert client.get("/accounts/two-factor/").status_code == 200


def test_a_caseworker_logs_in_with_the_password_alone(tanaka):
    client = Client()
    post_password(client, "tanaka")
    client.get(reverse("agencies:choose"))
    assert reaches_home(client)


def test_an_agency_that_asks_it_of_all_staff_sends_its_caseworkers_to_enrolment(
    client, tanaka, yamada, station_a
):
    caseworker = Client()
    post_password(caseworker, "tanaka")
    caseworker.get(reverse("agencies:choose"))
    assert reaches_home(caseworker)

    # The roster admin turns it on, on the agency's profile page.
    login_as(client, yamada)
    form = client.get(reverse("agencies:profile_edit", args=[station_a.public_id]))
    assert 'name="require_two_factor"' in form.content.decode()
    data = {
        "name": station_a.name,
        "name_kana": station_a.name_kana,
        "kind": station_a.kind,
        "operation": station_a.operation,
        "consent_validity_days": station_a.consent_validity_days,
        "referral_alert_business_days": station_a.referral_alert_business_days,
        "active_from": station_a.active_from.isoformat(),
        "receives_referrals": "on",
        "require_two_factor": "on",
    }
    saved = client.post(reverse("agencies:profile_edit", args=[station_a.public_id]), data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    station_a.refresh_from_db()
    assert station_a.require_two_factor

    # At once, for the session already open as that agency.
    blocked = caseworker.get(reverse("home"))
    assert path_of(blocked) == reverse("two_factor:enrol")


def test_one_membership_that_asks_it_is_enough(tanaka, jiritsu_b):
    from agencies.models import Role
    from agencies.services import membership_ensure

    jiritsu_b.require_two_factor = True
    jiritsu_b.save()
    membership_ensure(actor=None, user=tanaka, agency=jiritsu_b, role=Role.CASEWORKER)
    client = Client()
    post_password(client, "tanaka")
    # Acting for station A (which does not ask it) changes nothing: B asks it.
    assert path_of(client.get(reverse("agencies:choose"))) == reverse("two_factor:enrol")


# --- Enrolment ------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_and_a_right_code_confirms_it(suzuki):
    client = Client()
    post_password(client, "suzuki")
    page = client.get(reverse("two_factor:enrol")).content.decode()
    assert "<svg" in page
    assert 'class="segno"' in page
    assert "<img" not in page
    assert "data:image" not in page
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret)
    # Reloading keeps the secret a phone may already have scanned.
    assert secret in client.get(reverse("two_factor:enrol")).content.decode()

    device, codes = enrol(client)

    assert device.confirmed
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=suzuki).count() == 10
    assert events(suzuki) == [Kind.TWO_FACTOR_ENROLLED]
    # Shown once: the page does not show them again.
    assert path_of(client.get(reverse("two_factor:backup_codes"))) == reverse("two_factor:manage")
    # This session passed the second factor with the confirmation.
    client.get(reverse("agencies:choose"))
    assert reaches_home(client)


def test_a_wrong_code_does_not_confirm_the_authenticator_and_keeps_the_page(suzuki, no_throttle):
    client = Client()
    post_password(client, "suzuki")
    page = client.get(reverse("two_factor:enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', page).group(1)
    wrong = f"{(int(secret_code(secret)) + 1) % 1000000:06d}"

    response = client.post(reverse("two_factor:enrol"), {"code": wrong})

    assert response.status_code == 200
    assert secret in response.content.decode()
    assert "is-invalid" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=suzuki, confirmed=True).exists()
    assert path_of(client.get(reverse("home"))) == reverse("two_factor:enrol")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123 456", "123456"),
        ("１２３４５６", "123456"),
        ("１２３　４５６", "123456"),
        ("ABCD-EFGH", "abcdefgh"),
        ("ａｂｃｄ ｅｆｇｈ", "abcdefgh"),
    ],
)
def test_codes_are_read_as_typed_with_spaces_and_full_width_characters(typed, expected):
    assert normalise_code(typed) == expected


def test_a_full_width_code_with_a_space_confirms_the_authenticator(suzuki):
    client = Client()
    post_password(client, "suzuki")
    page = client.get(reverse("two_factor:enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', page).group(1)
    code = secret_code(secret)
    full_width = (code[:3] + "　" + code[3:]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )

    response = client.post(reverse("two_factor:enrol"), {"code": full_width})

    assert path_of(response) == reverse("two_factor:backup_codes")


def test_enrolling_ends_the_users_other_sessions(tanaka):
    elsewhere = Client()
    post_password(elsewhere, "tanaka")
    here = Client()
    post_password(here, "tanaka")
    enrol(here)
    assert not logged_in_for_real(elsewhere)
    assert logged_in_for_real(here)


def logged_in_for_real(client) -> bool:
    # The session's hash no longer matching the user logs it out on its next request.
    response = client.get(reverse("agencies:choose"))
    return not (response.status_code == 302 and path_of(response) == reverse("login"))


# --- Logging in with a second factor --------------------------------------------------------------


def test_the_password_alone_does_not_log_in_a_user_with_an_authenticator(suzuki, no_throttle):
    device = authenticator_for(suzuki)
    client = Client()

    response = post_password(client, "suzuki")

    assert path_of(response) == reverse("two_factor:verify")
    assert not logged_in(client)
    assert path_of(client.get(reverse("home"))) == reverse("login")

    wrong = client.post(reverse("two_factor:verify"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not logged_in(client)
    assert "is-invalid" in wrong.content.decode()
    assert AccessFailureLog.objects.filter(username="suzuki").count() == 1

    right = client.post(
        reverse("two_factor:verify"), {"code": device_code(device), "next": "/agencies/choose/"}
    )
    assert path_of(right) == "/agencies/choose/"
    assert logged_in(client)
    client.get(reverse("agencies:choose"))
    assert reaches_home(client)
    assert events(suzuki) == [Kind.TWO_FACTOR_FAILED, Kind.TWO_FACTOR_VERIFIED]


def test_a_code_is_accepted_once(suzuki, no_throttle):
    device = authenticator_for(suzuki)
    first = Client()
    post_password(first, "suzuki")
    code = device_code(device)
    assert logged_in(first) is False
    first.post(reverse("two_factor:verify"), {"code": code})
    assert logged_in(first)

    second = Client()
    post_password(second, "suzuki")
    replay = second.post(reverse("two_factor:verify"), {"code": code})
    assert replay.status_code == 200
    assert not logged_in(second)


def test_after_a_wrong_code_the_next_try_waits(suzuki):
    device = authenticator_for(suzuki)
    client = Client()
    post_password(client, "suzuki")
    client.post(reverse("two_factor:verify"), {"code": "000000"})

    response = client.post(reverse("two_factor:verify"), {"code": device_code(device)})

    assert response.status_code == 200
    assert not logged_in(client)
    assert "Wait" in response.content.decode() or "待って" in response.content.decode()


def test_a_backup_code_logs_in_once(suzuki, no_throttle):
    client = Client()
    post_password(client, "suzuki")
    _, codes = enrol(client)
    client.post(reverse("logout"))

    post_password(client, "suzuki")
    response = client.post(reverse("two_factor:verify"), {"code": codes[3].upper()})
    assert logged_in(client), response.content.decode()[:500]
    assert StaticToken.objects.filter(device__user=suzuki).count() == 9
    client.post(reverse("logout"))

    post_password(client, "suzuki")
    again = client.post(reverse("two_factor:verify"), {"code": codes[3]})
    assert again.status_code == 200
    assert not logged_in(client)
    assert Kind.BACKUP_CODE_USED in events(suzuki)


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(suzuki, no_throttle):
    authenticator_for(suzuki)
    client = Client()
    post_password(client, "suzuki")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(reverse("two_factor:verify"), {"code": "000000"}).status_code == 200

    locked = client.post(reverse("two_factor:verify"), {"code": "000000"})

    assert locked.status_code == 429
    # The right password is refused now too, and the half-done login is gone.
    assert post_password(client, "suzuki").status_code == 429
    assert not logged_in(client)
    assert path_of(client.get(reverse("two_factor:verify"))) == reverse("login")


def test_the_code_page_without_a_password_first_goes_to_the_login():
    response = Client().get(reverse("two_factor:verify"))
    assert path_of(response) == reverse("login")


# --- The Django admin -----------------------------------------------------------------------------


def test_a_system_admin_without_a_verified_second_factor_cannot_reach_the_admin(sysadmin):
    unverified = Client()
    unverified.force_login(sysadmin)  # Django's own client: no second factor passed
    response = unverified.get("/admin/")
    assert path_of(response) == reverse("two_factor:enrol")

    authenticator_for(sysadmin)
    response = unverified.get("/admin/")
    assert path_of(response) == reverse("two_factor:verify")

    verified = Client()
    login_as(verified, sysadmin)
    assert verified.get("/admin/").status_code == 200


def test_the_admin_shows_no_authenticator_secret(client, sysadmin, suzuki):
    device = authenticator_for(suzuki)
    login_as(client, sysadmin)

    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.text


# --- Resetting a lost phone -----------------------------------------------------------------------


def test_a_system_admin_resets_a_lost_second_factor_audited(client, sysadmin, suzuki):
    authenticator_for(suzuki)
    suzukis_session = Client()
    login_as(suzukis_session, suzuki)
    login_as(client, sysadmin)
    account_page = client.get(reverse("agencies:system_user", args=[suzuki.pk])).content.decode()
    url = reverse("agencies:system_user_second_factor_reset", args=[suzuki.pk])
    assert url in account_page

    question = client.get(url).content.decode()
    assert "suzuki" in question
    assert TOTPDevice.objects.filter(user=suzuki).exists()  # asking changes nothing

    response = client.post(url)

    assert path_of(response) == reverse("agencies:system_user", args=[suzuki.pk])
    assert not TOTPDevice.objects.filter(user=suzuki).exists()
    assert not StaticDevice.objects.filter(user=suzuki).exists()
    event = AuthenticationEvent.objects.get(user=suzuki, kind=Kind.TWO_FACTOR_RESET)
    assert event.actor == sysadmin
    entry = AuditEntry.objects.get(action="authentication.second_factor_reset")
    assert entry.actor == sysadmin
    assert entry.target_id == str(suzuki.pk)
    # Logged out everywhere; at the next login, the enrolment again.
    assert not logged_in_for_real(suzukis_session)
    again = Client()
    post_password(again, "suzuki")
    assert path_of(again.get(reverse("home"))) == reverse("two_factor:enrol")


def test_only_a_system_admin_may_reset(client, takahashi, suzuki):
    authenticator_for(suzuki)
    login_as(client, takahashi)
    url = reverse("agencies:system_user_second_factor_reset", args=[suzuki.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert TOTPDevice.objects.filter(user=suzuki).exists()


# --- Turning it off, new backup codes -------------------------------------------------------------


def test_who_must_cannot_turn_it_off(client, suzuki):
    login_as(client, suzuki)
    client.post(reverse("two_factor:remove"))
    assert TOTPDevice.objects.filter(user=suzuki, confirmed=True).exists()


def test_who_need_not_may_turn_it_off(tanaka):
    client = Client()
    post_password(client, "tanaka")
    enrol(client)
    assert client.get(reverse("two_factor:remove")).status_code == 200

    client.post(reverse("two_factor:remove"))

    assert not TOTPDevice.objects.filter(user=tanaka).exists()
    assert not StaticDevice.objects.filter(user=tanaka).exists()
    assert events(tanaka)[-1] == Kind.TWO_FACTOR_REMOVED


def test_new_backup_codes_replace_the_old(suzuki):
    client = Client()
    post_password(client, "suzuki")
    _, old = enrol(client)

    response = client.post(reverse("two_factor:backup_codes_new"))
    new = re.findall(
        r'<li class="backup-code">([a-z2-7 ]{9})</li>',
        client.get(response["Location"]).content.decode(),
    )

    assert len(new) == 10
    tokens = set(StaticToken.objects.filter(device__user=suzuki).values_list("token", flat=True))
    assert tokens == {code.replace(" ", "") for code in new}
    assert not tokens & {code.replace(" ", "") for code in old}


# --- Asking the password again --------------------------------------------------------------------


def make_stale(client):
    session = client.session
    session[AUTHENTICATED_AT] = time.time() - settings.TSUNAGU_REAUTHENTICATION.total_seconds() - 1
    session.save()


@pytest.mark.parametrize("name", ["two_factor:enrol", "two_factor:remove", "password_change"])
def test_changes_to_how_one_logs_in_ask_the_password_again_when_it_is_stale(tanaka, name):
    client = Client()
    post_password(client, "tanaka")
    assert client.get(reverse(name)).status_code == 200  # just typed: not asked
    make_stale(client)

    asked = client.get(reverse(name))

    assert path_of(asked) == reverse("two_factor:reauthenticate")
    wrong = client.post(asked["Location"], {"password": "not it"})
    assert wrong.status_code == 200
    assert AccessFailureLog.objects.filter(username="tanaka").count() == 1
    right = client.post(asked["Location"], {"password": PASSWORD})
    assert right["Location"] == reverse(name)
    assert client.get(reverse(name)).status_code == 200


def test_new_backup_codes_ask_the_password_again_when_it_is_stale(suzuki):
    client = Client()
    post_password(client, "suzuki")
    enrol(client)
    make_stale(client)
    tokens = set(StaticToken.objects.filter(device__user=suzuki).values_list("token", flat=True))

    response = client.post(reverse("two_factor:backup_codes_new"))

    assert path_of(response) == reverse("two_factor:reauthenticate")
    assert tokens == set(
        StaticToken.objects.filter(device__user=suzuki).values_list("token", flat=True)
    )


def test_the_user_menu_links_two_factor_login(client, tanaka):
    login_as(client, tanaka)
    assert reverse("two_factor:manage") in client.get(reverse("home"), follow=True).content.decode()


def test_totp_code_helper_matches_django_otp(suzuki):
    device = authenticator_for(suzuki)
    assert device.verify_token(totp_code(device.bin_key))


def test_the_authentication_log_shows_the_second_factor_events(client, sysadmin, suzuki):
    authenticator_for(suzuki)
    attempt = Client()
    post_password(attempt, "suzuki")
    attempt.post(reverse("two_factor:verify"), {"code": "000000"})
    login_as(client, sysadmin)

    page = client.get(reverse("audit:authentication")).content.decode()

    assert f'data-outcome="{Kind.TWO_FACTOR_FAILED}"' in page
