"""Shared fixtures: the services the suite runs against, and the named personas.

Personas (build state through services, never by hand-written rows):
- 田中 tanaka: caseworker at station A (ひきこもり支援ステーション)
- 鈴木 suzuki: supervisor at 自立相談 B (自立相談支援機関)
- 佐藤 sato: caseworker at an unrelated agency C
"""

import os

import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery-staple"

# Property-based tests (hypothesis): in CI the same examples every run and no example database,
# so a failure there is one anyone can run again.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    if IN_CI:
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if missing:
            raise pytest.UsageError(
                f"CI=true but {', '.join(missing)} is unset: CI needs a real PostgreSQL and Redis."
            )
        if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI=true but DATABASE_URL is not a PostgreSQL URL.")


def pytest_collection_modifyitems(config, items):
    # Outside CI only: without a service, its tests are reported as skipped with the reason.
    reasons = {}
    if not os.environ.get("REDIS_URL"):
        reasons["redis"] = "no REDIS_URL and no redis-server installed"
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        reasons["postgres"] = "no DATABASE_URL and no PostgreSQL installed"
    for item in items:
        for marker, reason in reasons.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"{reason} (allowed only outside CI)"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium; Playwright's own browser download is not possible here.
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


def make_user(username: str, full_name: str, *, system_admin: bool = False):
    from accounts.models import User

    user = User(username=username, full_name=full_name, is_system_admin=system_admin)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_agency(name: str, kana: str, kind: str, *, area=(), functions=(), **fields):
    """Create an agency the way a system admin does: through the service."""
    from accounts.models import User
    from agencies.permissions import Viewer
    from agencies.services import agency_create

    system_user, _ = User.objects.get_or_create(
        username="fixture-system", defaults={"full_name": "初期設定", "is_system_admin": True}
    )
    return agency_create(
        viewer=Viewer(user=system_user, membership=None),
        fields={"name": name, "name_kana": kana, "kind": kind, **fields},
        service_area=list(area),
        functions=list(functions),
    )


@pytest.fixture
def station_a(db):
    return make_agency(
        "ひきこもり支援ステーションA", "ヒキコモリシエンステーションA", "hikikomori_station"
    )


@pytest.fixture
def jiritsu_b(db):
    return make_agency("自立相談支援機関B", "ジリツソウダンシエンキカンB", "self_reliance")


@pytest.fixture
def agency_c(db):
    return make_agency("NPO法人C", "エヌピーオーC", "npo")


@pytest.fixture
def tanaka(station_a):
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("tanaka", "田中 一郎")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.CASEWORKER)
    return user


@pytest.fixture
def suzuki(jiritsu_b):
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("suzuki", "鈴木 花子")
    membership_ensure(actor=None, user=user, agency=jiritsu_b, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def sato(agency_c):
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("sato", "佐藤 次郎")
    membership_ensure(actor=None, user=user, agency=agency_c, role=Role.CASEWORKER)
    return user


@pytest.fixture
def sysadmin(db):
    return make_user("sysadmin", "システム管理者", system_admin=True)


@pytest.fixture
def yamada(station_a):
    """山田: roster admin (and caseworker) of station A."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("yamada", "山田 京子")
    membership_ensure(
        actor=None, user=user, agency=station_a, role=Role.CASEWORKER, is_roster_admin=True
    )
    return user


@pytest.fixture
def ito(station_a):
    """伊藤: hikikomori supporter dispatched by station A."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("ito", "伊藤 健")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPPORTER)
    return user


def municipality(code: str, name: str, kind: str, prefecture=None):
    """The bundled list is loaded by a migration; tolerate a test database without it."""
    from agencies.models import Municipality

    obj, _ = Municipality.objects.get_or_create(
        code=code,
        defaults={"name": name, "kind": kind, "prefecture": prefecture, "search_key": name},
    )
    return obj


@pytest.fixture
def nagano_prefecture(db):
    return municipality("200000", "長野県", "prefecture")


@pytest.fixture
def nagano_city(nagano_prefecture):
    return municipality("202011", "長野市", "city", nagano_prefecture)


@pytest.fixture
def matsumoto_city(nagano_prefecture):
    return municipality("202029", "松本市", "city", nagano_prefecture)


def login_as(client, user):
    """Log in and pick the user's (first) agency, as the login flow does."""
    from django.urls import reverse

    from tests.second_factor import verify_session

    client.force_login(user)
    # As the code page would: a user who must have a second factor has passed it.
    verify_session(client, user)
    client.get(reverse("agencies:choose"))
    return client


@pytest.fixture
def client():
    """Django's test client, whose force_login also passes the second factor for a user who
    must have one (tests.second_factor): two-factor login stays enforced in every test."""
    from tests.second_factor import VerifyingClient

    return VerifyingClient()


@pytest.fixture
def page(page):
    # Fail in seconds, not half a minute, when a label or button is not there.
    page.set_default_timeout(8000)
    # Every browser test also checks the Content-Security-Policy: a script the page tried that
    # the policy refused (an inline script or handler, eval) fails the test. Refused inline
    # styles are not counted yet: htmx applies one while swapping the agency picker's results
    # (tests/browser/test_agency_picker_in_case_work.py), harmless, still to be traced.
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text and "inline style" not in message.text
            else None
        ),
    )
    yield page
    assert not refused, f"The Content-Security-Policy refused: {refused}"


def viewer_for(user):
    """The Viewer a request by ``user`` acting as their first agency would have."""
    from agencies.permissions import Viewer
    from agencies.selectors import membership_list_for_user

    return Viewer(user=user, membership=membership_list_for_user(user=user).first())


@pytest.fixture
def yamamoto(tanaka):
    """山本 太郎 (53): a client of station A, registered by 田中."""
    import datetime

    from cases.services import client_create

    return client_create(
        viewer=viewer_for(tanaka),
        fields={
            "full_name": "山本 太郎",
            "full_name_kana": "ヤマモト タロウ",
            "birth_date": datetime.date(1973, 5, 10),
            "phone": "090-0000-1111",
        },
    )


@pytest.fixture
def yamamoto_case(tanaka, yamamoto):
    """山本's open case at station A, 田中 the primary caseworker."""
    from cases.services import case_open

    return case_open(
        viewer=viewer_for(tanaka),
        client=yamamoto,
        fields={"origin": "family", "support_type": "no_plan", "withdrawal_duration": "10y"},
        topics=["hikikomori", "family"],
        main_topic="hikikomori",
        primary_worker=tanaka,
    )


@pytest.fixture
def kato(station_a):
    """加藤: administrative staff and roster admin of station A; sees no client."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("kato", "加藤 事務")
    membership_ensure(
        actor=None, user=user, agency=station_a, role=Role.ADMINISTRATIVE, is_roster_admin=True
    )
    return user


def send_referral(
    sender, client, to_agency, *, kind="tsunagi", categories=("basic", "consultation")
):
    """``sender`` sends ``client``'s referral to ``to_agency`` through the services: a つなぎ or
    共同支援 with the person's written consent to ``categories`` first, or an introduction
    (nothing sent, no consent needed)."""
    from consent.services import consent_record
    from referrals.services import referral_draft, referral_send

    fields = {
        "type": kind,
        "to_agency": to_agency,
        "reason": "就労の相談",
        "client_wishes": "話を聞いてみたい",
    }
    if kind != "introduction":
        consent_record(
            viewer=viewer_for(sender),
            client=client,
            recipient=to_agency,
            purpose="joint_support" if kind == "joint" else "referral",
            categories=list(categories),
            method="written",
        )
        fields["categories"] = list(categories)
    referral = referral_draft(viewer=viewer_for(sender), client=client, fields=fields)
    return referral_send(viewer=viewer_for(sender), referral=referral)


@pytest.fixture
def takahashi(station_a):
    """高橋: supervisor (主任相談支援員) of station A."""
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user("takahashi", "高橋 三郎")
    membership_ensure(actor=None, user=user, agency=station_a, role=Role.SUPERVISOR)
    return user
