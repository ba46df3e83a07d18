"""Repeated failed logins lock out (django-axes), per user name and per address, for a cool-off
that ends by itself; a system admin reads the authentication log and can unlock an account.

axes keeps its counts in the database, so each test starts from none (pytest-django rolls the
database back, and flushes it after a live-server test)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def post_login(client, username, password, address="127.0.0.1", **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def cool_off_passes():
    """Move every attempt back past the cool-off instead of waiting for it."""
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )


def test_the_settings_are_five_failures_and_fifteen_minutes():
    assert LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, tanaka):
    for _ in range(LIMIT - 1):
        assert post_login(client, "tanaka", "wrong").status_code == 200
    locked = post_login(client, "tanaka", "wrong")
    assert locked.status_code == 429

    response = post_login(client, "tanaka", PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert 'id="locked-out"' in response.text
    assert '<html lang="ja">' in response.text
    assert "15" in response.text  # the cool-off, in minutes
    assert AccessFailureLog.objects.filter(username="tanaka", locked_out=True).exists()


def test_after_the_cool_off_the_right_password_works(client, tanaka):
    for _ in range(LIMIT):
        post_login(client, "tanaka", "wrong")
    assert post_login(client, "tanaka", PASSWORD).status_code == 429

    cool_off_passes()
    response = post_login(client, "tanaka", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_a_success_resets_the_count(client, tanaka):
    for _ in range(LIMIT - 1):
        post_login(client, "tanaka", "wrong")
    assert post_login(client, "tanaka", PASSWORD).status_code == 302
    client.logout()
    assert not AccessAttempt.objects.exists()

    for _ in range(LIMIT - 1):
        post_login(client, "tanaka", "wrong")
    response = post_login(client, "tanaka", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_one_account_tried_from_many_addresses_is_locked_from_every_address(client, tanaka):
    for n in range(LIMIT):
        post_login(client, "tanaka", "wrong", address=f"198.51.100.{n + 1}")

    response = post_login(client, "tanaka", PASSWORD, address="203.0.113.50")

    assert response.status_code == 429
    assert not logged_in(client)


def test_one_address_trying_many_accounts_is_locked_for_the_next_one_too(client, tanaka, suzuki):
    for n in range(LIMIT):
        post_login(client, f"guess{n}", "wrong", address="198.51.100.7")

    response = post_login(client, "suzuki", PASSWORD, address="198.51.100.7")

    assert response.status_code == 429
    assert not logged_in(client)
    # suzuki from another address is not locked: the address was, not the account
    assert post_login(client, "suzuki", PASSWORD, address="198.51.100.8").status_code == 302


def test_a_forwarded_for_header_does_not_give_a_new_address_without_a_trusted_proxy(client, tanaka):
    for n in range(LIMIT):
        post_login(client, f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")

    response = post_login(client, "tanaka", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_address_it_appended_is_counted(client, tanaka, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 0  # one proxy: TSUNAGU_TRUSTED_PROXY_COUNT=1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    for n in range(LIMIT):
        # the client's own header in front, the address the proxy saw last
        post_login(
            client,
            f"guess{n}",
            "wrong",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 198.51.100.7",
        )

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    other = post_login(
        client, "tanaka", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8"
    )
    assert other.status_code == 302


# --- The authentication log --------------------------------------------------------------------


def test_the_log_shows_failures_the_lockout_and_successes_to_a_system_admin(
    client, tanaka, sysadmin
):
    post_login(client, "suzuki", PASSWORD, address="198.51.100.9")  # no such user yet: a failure
    for _ in range(LIMIT):
        post_login(client, "tanaka", "wrong", address="198.51.100.7")
    make_user("kato", "加藤")
    post_login(client, "kato", PASSWORD, address="198.51.100.8")
    client.logout()

    client.force_login(sysadmin)
    response = client.get(reverse("audit:authentication"))

    assert response.status_code == 200
    text = response.text
    assert text.count('data-outcome="failure"') == LIMIT  # suzuki's and four of tanaka's
    assert text.count('data-outcome="locked_out"') == 1
    assert 'data-outcome="success"' in text
    assert "198.51.100.7" in text
    assert "198.51.100.8" in text
    # newest first: the last row written (the system admin's own login) comes before the failures
    assert text.index('data-outcome="success"') < text.index('data-outcome="locked_out"')
    # tanaka is listed as locked now, with the question before an unlock
    assert 'href="?unlock=tanaka"' in text


def test_the_log_is_a_404_for_a_supervisor(client, suzuki):
    client.force_login(suzuki)

    assert client.get(reverse("audit:authentication")).status_code == 404
    response = client.post(reverse("audit:authentication_unlock"), {"username": "suzuki"})
    assert response.status_code == 404


def test_the_log_pages_by_25_newest_first(client, sysadmin):
    now = timezone.now()
    for n in range(30):
        AccessFailureLog.objects.create(
            username=f"user{n:02d}",
            ip_address="198.51.100.1",
            user_agent="",
            http_accept="",
            path_info="/accounts/login/",
        )
    AccessFailureLog.objects.update(attempt_time=now - timedelta(hours=1))
    for n, row in enumerate(AccessFailureLog.objects.order_by("id")):
        AccessFailureLog.objects.filter(id=row.id).update(
            attempt_time=now - timedelta(minutes=60 - n)
        )
    client.force_login(sysadmin)
    AccessLog.objects.all().delete()  # the force_login's success row is not part of this test

    first = client.get(reverse("audit:authentication"))
    page = first.context["page"]
    assert [e.username for e in page.items] == [f"user{n:02d}" for n in range(29, 4, -1)]
    assert page.has_next

    second = client.get(reverse("audit:authentication"), {"after": page.next_cursor})
    rest = second.context["page"]
    assert [e.username for e in rest.items] == [f"user{n:02d}" for n in range(4, -1, -1)]
    assert not rest.has_next

    # an edited cursor starts from the beginning instead of failing
    broken = client.get(reverse("audit:authentication"), {"after": "not-a-cursor"})
    assert broken.status_code == 200
    assert len(broken.context["page"].items) == 25


def test_a_system_admin_unlocks_an_account_after_being_asked_and_it_is_audited(
    client, tanaka, sysadmin
):
    for _ in range(LIMIT):
        post_login(client, "tanaka", "wrong", address="198.51.100.7")
    assert post_login(client, "tanaka", PASSWORD, address="198.51.100.7").status_code == 429

    admin = client.__class__()
    admin.force_login(sysadmin)
    question = admin.get(reverse("audit:authentication"), {"unlock": "tanaka"})
    assert question.status_code == 200
    assert 'name="username" value="tanaka"' in question.text
    assert reverse("audit:authentication_unlock") in question.text
    assert AccessAttempt.objects.filter(username="tanaka").exists()  # asking writes nothing

    response = admin.post(reverse("audit:authentication_unlock"), {"username": "tanaka"})

    assert response.status_code == 302
    assert response["Location"] == reverse("audit:authentication")
    assert not AccessAttempt.objects.filter(username="tanaka").exists()
    entry = AuditEntry.objects.get(action="authentication.unlocked")
    assert entry.actor == sysadmin
    assert entry.target_type == "accounts.user"
    assert entry.target_id == str(tanaka.pk)
    assert entry.changes == {"failures": [LIMIT + 1, 0]}
    # the failure log keeps what happened
    assert AccessFailureLog.objects.filter(username="tanaka").count() == LIMIT + 1

    # unlocked: tanaka logs in at once, from the same computer
    assert post_login(client, "tanaka", PASSWORD, address="198.51.100.7").status_code == 302


def test_unlocking_a_user_name_with_no_account_is_a_404(client, sysadmin):
    client.force_login(sysadmin)

    response = client.post(reverse("audit:authentication_unlock"), {"username": "nobody"})

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="authentication.unlocked").exists()
