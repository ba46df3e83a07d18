import pytest
from django.urls import reverse

from agencies.middleware import SESSION_KEY
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_every_page_but_login_and_health_requires_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_login_page_is_japanese_by_default(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert '<html lang="ja">' in response.text
    assert "Tsunagu にログイン" in response.text


@pytest.mark.django_db
def test_the_language_switch_gives_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})

    response = client.get(reverse("login"))

    assert "Log in to Tsunagu" in response.text


@pytest.mark.django_db
def test_a_wrong_password_shows_a_japanese_error_and_keeps_the_user_name(client, tanaka):
    response = client.post(reverse("login"), {"username": "tanaka", "password": "nope"})

    assert response.status_code == 200
    assert "ユーザー名またはパスワードが正しくありません" in response.text
    assert 'value="tanaka"' in response.text


@pytest.mark.django_db
def test_a_caseworker_with_one_agency_lands_on_their_caseload_as_that_agency(
    client, tanaka, station_a
):
    response = client.post(
        reverse("login"), {"username": "tanaka", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("cases:caseload")
    assert "ひきこもり支援ステーションA" in response.text
    assert client.session[SESSION_KEY] == tanaka.memberships.get().id


@pytest.mark.django_db
def test_a_user_of_two_agencies_chooses_and_switches(client, tanaka, jiritsu_b):
    from agencies.models import Role
    from agencies.services import membership_ensure

    # A caseworker at both: a supervisor role would first ask for a second factor.
    second = membership_ensure(actor=None, user=tanaka, agency=jiritsu_b, role=Role.CASEWORKER)
    response = client.post(
        reverse("login"), {"username": "tanaka", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("agencies:choose")
    assert "自立相談支援機関B" in response.text

    response = client.post(reverse("agencies:choose"), {"membership": second.id}, follow=True)

    assert "自立相談支援機関B（相談支援員）" in response.text


@pytest.mark.django_db
def test_nobody_can_choose_a_membership_of_someone_else(client, tanaka, suzuki):
    client.force_login(tanaka)
    others = suzuki.memberships.get()

    response = client.post(reverse("agencies:choose"), {"membership": others.id})

    assert response.status_code == 404
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_a_deactivated_membership_stops_working_on_the_next_request(client, tanaka):
    client.force_login(tanaka)
    client.get(reverse("agencies:choose"))
    assert "ひきこもり支援ステーションA" in client.get(reverse("home"), follow=True).text

    tanaka.memberships.update(is_active=False)

    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("agencies:choose")


@pytest.mark.django_db
def test_the_admin_is_a_404_for_staff_and_open_to_system_admins(client, tanaka, sysadmin):
    client.force_login(tanaka)
    assert client.get("/admin/").status_code == 404

    client.force_login(sysadmin)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_sends_anonymous_visitors_to_the_one_login_page(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))


@pytest.mark.django_db
def test_password_change_in_japanese(client, tanaka):
    client.force_login(tanaka)

    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )

    assert response.status_code == 200
    assert "元のパスワードが間違っています" in response.text
