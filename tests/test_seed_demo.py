import json

import pytest
from django.core.management import call_command

from accounts.models import User
from agencies.models import Agency, AgencyKind, Membership, Network, Role
from audit.models import AuditEntry


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_seed_demo_builds_a_roster_of_every_role_and_is_idempotent(var_dir, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (
        User.objects.count(),
        Agency.objects.count(),
        Membership.objects.count(),
        Network.objects.count(),
        AuditEntry.objects.count(),
    )

    call_command("seed_demo")
    second = capsys.readouterr().out

    assert counts == (
        User.objects.count(),
        Agency.objects.count(),
        Membership.objects.count(),
        Network.objects.count(),
        AuditEntry.objects.count(),
    )
    assert first == second  # the same logins, printed again
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {
        AgencyKind.SELF_RELIANCE,
        AgencyKind.HIKIKOMORI_CENTER,
        AgencyKind.HIKIKOMORI_STATION,
        AgencyKind.HIKIKOMORI_PROJECT,
    } <= kinds
    assert len(kinds) >= 7  # and several partners
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert Membership.objects.filter(is_roster_admin=True).exists()
    assert User.objects.filter(is_system_admin=True).exists()
    assert set(Agency.objects.values_list("municipality__prefecture__name", flat=True)) <= {
        "長野県",
        None,
    }

    # Every printed password logs its user in.
    passwords = json.loads((var_dir / "demo_accounts.json").read_text())
    for username, password in passwords.items():
        assert username in first
        assert User.objects.get(username=username).check_password(password)


@pytest.mark.django_db
def test_seed_demo_refuses_in_production(settings, var_dir):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_demo_links_two_agencies_so_the_live_view_shows_placeholders(var_dir, client):
    from django.urls import reverse

    from cases.models import Client
    from tests.conftest import login_as

    call_command("seed_demo")
    ogawa = Client.objects.get(full_name="小川 さくら", agency__kind=AgencyKind.HIKIKOMORI_STATION)
    login_as(client, User.objects.get(username="suzuki"))

    response = client.get(reverse("referrals:shared_record", args=[ogawa.public_id]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "小川 さくら" in html
    assert 'data-category="health"' in html
    assert html.count("data-withheld") == 4  # household, health, finance, plan
