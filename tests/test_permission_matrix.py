"""Every view × every persona: who gets the page, who gets a 404, who is sent to log in.

A new URL that is not in the matrix fails ``test_every_view_is_in_the_matrix``.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import login_as

OK, NOT_FOUND, LOGIN, REDIRECT = 200, 404, "login", 302

PERSONAS = ["anonymous", "tanaka", "yamada", "ito", "suzuki", "sysadmin"]


def row(anonymous, tanaka, yamada, ito, suzuki, sysadmin) -> dict:
    """One line of the matrix, personas in the order of PERSONAS."""
    return dict(zip(PERSONAS, (anonymous, tanaka, yamada, ito, suzuki, sysadmin), strict=True))


# name: (args builder, {persona: expected}); args get the fixtures dict.
MATRIX = {
    "home": (
        None,
        row(LOGIN, OK, OK, OK, OK, OK),
    ),
    "health": (None, dict.fromkeys(PERSONAS, OK)),
    "login": (
        None,
        row(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    ),
    "password_change": (
        None,
        row(LOGIN, OK, OK, OK, OK, OK),
    ),
    "password_change_done": (
        None,
        row(LOGIN, OK, OK, OK, OK, OK),
    ),
    "password_reset_complete": (None, dict.fromkeys(PERSONAS, OK)),
    "agencies:choose": (
        None,
        row(LOGIN, OK, OK, OK, OK, REDIRECT),
    ),
    "agencies:directory": (
        None,
        row(LOGIN, OK, OK, NOT_FOUND, OK, OK),
    ),
    "agencies:detail": (
        lambda f: [f["jiritsu_b"].public_id],
        row(LOGIN, OK, OK, NOT_FOUND, OK, OK),
    ),
    "agencies:roster_home": (
        None,
        row(LOGIN, NOT_FOUND, REDIRECT, NOT_FOUND, NOT_FOUND, REDIRECT),
    ),
    "agencies:my_supporter_profile": (
        None,
        row(LOGIN, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND),
    ),
}
# Station A's own roster pages: its admin and system admins only; everyone else 404.
STATION_A_ROSTER = row(LOGIN, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK)
for name in ("agencies:manage", "agencies:profile_edit", "agencies:staff_invite"):
    MATRIX[name] = (lambda f: [f["station_a"].public_id], STATION_A_ROSTER)
MATRIX["agencies:staff_edit"] = (
    lambda f: [f["station_a"].public_id, f["tanaka"].memberships.get().public_id],
    STATION_A_ROSTER,
)
# POST-only actions answer a GET with 405 (it reveals nothing); the POST is checked below.
POST_ONLY = dict.fromkeys(PERSONAS, 405) | {"anonymous": LOGIN}
for name in ("agencies:staff_deactivate", "agencies:staff_reactivate"):
    MATRIX[name] = (
        lambda f: [f["station_a"].public_id, f["tanaka"].memberships.get().public_id],
        POST_ONLY,
    )
# The installation's administration: system admins only.
SYSTEM_ONLY = row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)
for name in (
    "agencies:system_agencies",
    "agencies:system_agency_create",
    "agencies:system_municipalities",
    "agencies:system_networks",
    "agencies:system_network_create",
    "agencies:system_import",
    "agencies:system_export_municipalities",
    "agencies:system_export_agencies",
    "audit:list",
):
    MATRIX[name] = (None, SYSTEM_ONLY)
MATRIX["agencies:system_municipality_edit"] = (lambda f: ["202011"], SYSTEM_ONLY)
MATRIX["agencies:system_network_edit"] = (lambda f: [f["network"].public_id], SYSTEM_ONLY)

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


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(request, client, name, persona, station_a, jiritsu_b):
    fixtures = {
        key: request.getfixturevalue(key)
        for key in ("tanaka", "yamada", "ito", "suzuki", "sysadmin", "station_a", "jiritsu_b")
    }
    if "network" in name:
        fixtures["network"] = request.getfixturevalue("network")
    args_builder, expected = MATRIX[name]
    url = reverse(name, args=args_builder(fixtures) if args_builder else None)
    if persona != "anonymous":
        login_as(client, fixtures[persona])

    response = client.get(url)

    want = expected[persona]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == want, f"{persona} GET {url}"


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
