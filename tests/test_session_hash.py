"""The session auth hash: a bumped ``session_epoch`` ends every session of the user at once,
and a key rotation (the old key in SECRET_KEY_FALLBACKS) keeps people logged in until then.

The user model overrides Django's public ``get_session_auth_hash`` and
``get_session_auth_fallback_hash``, not the private method under them."""

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.db.models import F
from django.urls import reverse

from accounts.models import User
from tests.conftest import login_as

pytestmark = pytest.mark.django_db

OLD_KEY = "an-old-secret-key-for-the-rotation-test-" + "x" * 20
NEW_KEY = "a-new-secret-key-for-the-rotation-test-" + "y" * 20


def bump_epoch(user) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)


def test_only_public_methods_are_overridden():
    assert "get_session_auth_hash" in User.__dict__
    assert "get_session_auth_fallback_hash" in User.__dict__
    assert "_get_session_auth_hash" not in User.__dict__


def test_the_hash_changes_with_the_epoch_and_with_the_password(tanaka):
    before = tanaka.get_session_auth_hash()

    bump_epoch(tanaka)
    tanaka.refresh_from_db()
    after_bump = tanaka.get_session_auth_hash()
    tanaka.set_password("another-password-2026")

    assert after_bump != before
    assert tanaka.get_session_auth_hash() not in {before, after_bump}


def test_the_fallback_hashes_are_those_of_the_fallback_keys(tanaka, settings):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    signed_with_old_key = tanaka.get_session_auth_hash()

    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]

    assert tanaka.get_session_auth_hash() != signed_with_old_key
    assert list(tanaka.get_session_auth_fallback_hash()) == [signed_with_old_key]


def test_a_key_rotation_keeps_the_session_and_signs_it_again(client, tanaka, settings):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    login_as(client, tanaka)
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]

    response = client.get(reverse("cases:caseload"))

    assert response.status_code == 200
    assert client.session[HASH_SESSION_KEY] == tanaka.get_session_auth_hash()


def test_a_bumped_epoch_ends_a_session_signed_with_a_fallback_key(client, tanaka, settings):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    login_as(client, tanaka)
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]

    bump_epoch(tanaka)
    response = client.get(reverse("cases:caseload"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
