"""The Content-Security-Policy (config/settings.py SECURE_CSP, Django's middleware): every page
says scripts come only from the app's own files, each tag carrying that response's nonce, with
no inline script, event handler, style attribute or eval. The templates are read for anything the
policy would refuse; the pages a caseworker uses are fetched and their tags compared with the
header. (Every browser test also fails on a refusal the browser reports: tests/conftest.py.)"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import login_as, send_referral
from tests.test_plans import make_plan

ROOT = Path(settings.BASE_DIR)
FIRST_PARTY = [
    "templates",
    *(
        f"{app}/templates"
        for app in (
            "accounts",
            "agencies",
            "audit",
            "cases",
            "consent",
            "councils",
            "demo",
            "referrals",
            "reminders",
        )
    ),
]


def our_templates():
    for folder in FIRST_PARTY:
        yield from sorted((ROOT / folder).rglob("*.html"))


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str):
    parser = Tags()
    parser.feed(html)
    return parser.tags


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def test_no_template_has_what_the_policy_refuses():
    offences = []
    for path in our_templates():
        text = path.read_text()
        name = path.relative_to(ROOT)
        for match in re.finditer(r"<script\b[^>]*>", text):
            tag = match.group(0)
            if "src=" not in tag:
                offences.append(f"{name}: inline script {tag}")
            if 'nonce="{{ csp_nonce }}"' not in tag:
                offences.append(f"{name}: script without the nonce {tag}")
        for match in re.finditer(r"<style\b[^>]*>", text):
            if 'nonce="{{ csp_nonce }}"' not in match.group(0):
                offences.append(f"{name}: <style> without the nonce")
        for match in re.finditer(r"<[a-zA-Z][^<>]*?\s(on[a-z]+|style)\s*=", text):
            offences.append(f"{name}: attribute {match.group(1)}= in {match.group(0)[:80]}")
        for match in re.finditer(r"hx-on\b|hx-on:|javascript:|hx-trigger=\"[^\"]*\[", text):
            offences.append(f"{name}: needs eval: {match.group(0)}")
    assert not offences, "\n".join(offences)


def test_the_template_check_finds_an_inline_handler(tmp_path):
    """The check above can fail: the patterns catch what they are meant to."""
    sample = '<button type="button" onclick="window.print()">x</button><p style="color:red">'
    assert re.findall(r"<[a-zA-Z][^<>]*?\s(on[a-z]+|style)\s*=", sample) == ["onclick", "style"]


@pytest.mark.django_db
def test_every_page_a_caseworker_uses_carries_the_policy_and_its_nonce(
    client, tanaka, yamamoto_case, jiritsu_b
):
    person = yamamoto_case.client
    plan = make_plan(tanaka, yamamoto_case)
    referral = send_referral(tanaka, person, jiritsu_b)
    login_as(client, tanaka)
    nonces = set()

    for url in (
        reverse("cases:caseload"),
        reverse("cases:client", args=[person.public_id]),
        reverse("cases:plan_print", args=[plan.public_id]),
        reverse("referrals:print", args=[referral.public_id]),
        reverse("referrals:outgoing"),
        reverse("cases:meetings"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = policy_of(response)
        assert policy["default-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        for directive in ("script-src", "style-src"):
            assert "'unsafe-inline'" not in policy[directive], url
            assert "'unsafe-eval'" not in policy[directive], url
        (nonce_source,) = [v for v in policy["script-src"] if v.startswith("'nonce-")]
        nonce = nonce_source.removeprefix("'nonce-").removesuffix("'")
        nonces.add(nonce)

        scripts = [attrs for tag, attrs in tags_of(response.content.decode()) if tag == "script"]
        assert scripts, url
        for attrs in scripts:
            assert attrs.get("src", "").startswith(settings.STATIC_URL), (url, attrs)
            assert attrs.get("nonce") == nonce, (url, attrs)
    assert len(nonces) == 6, "each response has a nonce of its own"


@pytest.mark.django_db
def test_the_login_page_and_an_error_page_carry_it_too(client):
    for response in (client.get(reverse("login")), client.get("/no-such-page/")):
        assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
