"""No page of the application may be kept by a browser or a proxy (core.middleware): the pages
that once lacked it — the client page, the plan and referral prints, a search — and the login
page and an error page all say ``private, no-store``."""

import pytest
from django.urls import reverse

from tests.conftest import login_as, send_referral
from tests.test_plans import make_plan

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def test_the_pages_that_name_a_person_are_kept_nowhere(client, tanaka, yamamoto_case, jiritsu_b):
    person = yamamoto_case.client
    plan = make_plan(tanaka, yamamoto_case)
    referral = send_referral(tanaka, person, jiritsu_b)
    login_as(client, tanaka)

    for url in (
        reverse("cases:client", args=[person.public_id]),
        reverse("cases:plan_print", args=[plan.public_id]),
        reverse("referrals:print", args=[referral.public_id]),
        reverse("cases:caseload"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "山本" in response.content.decode(), url
        assert no_store(response), url
    # The search is POSTed (no name in its URL); its answer is kept nowhere either.
    found = client.post(reverse("cases:client_search"), {"q": "山本"})
    assert "山本" in found.content.decode()
    assert no_store(found)


def test_the_login_page_and_a_refusal_are_kept_nowhere_too(client, tanaka):
    assert no_store(client.get(reverse("login")))
    login_as(client, tanaka)
    missing = client.get("/cases/clients/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert no_store(missing)
