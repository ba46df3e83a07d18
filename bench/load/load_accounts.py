"""The simulated staff, chosen from the seeded ones (Django set up, the bench database only).

Seeded staff have what a bench-made account would lack: a caseload of their own, consultations
they took part in, referrals in their agency's queues. So the users are the staff of the
agencies with the most open cases, the large agency first; each with exactly one membership
(logging in lands on the caseload, no agency to choose). Reads go straight to the models: this
is a benchmark's set-up, not a view, and it sees the whole bench database on purpose.
"""

import secrets

from django.apps import apps
from django.db.models import Count, Q

from agencies.models import Agency, Membership, Role
from agencies.permissions import must_use_second_factor
from cases.models import Case, Client, Stage

# A quick entry needs an open case; a suspended one is not worked on.
WORKED = ~Q(stage__in=[Stage.CLOSED, Stage.SUSPENDED])
TOTP_DEVICE_NAME = "bench/load"


def choose_accounts(
    *, caseworkers: int, supervisors: int, per_caseworker: int, per_supervisor: int
) -> dict:
    wanted = {Role.CASEWORKER: caseworkers, Role.SUPERVISOR: supervisors}
    chosen: dict[str, list[Membership]] = {Role.CASEWORKER: [], Role.SUPERVISOR: []}
    agencies = (
        Agency.objects.annotate(
            open_cases=Count("cases", filter=~Q(cases__stage__in=[Stage.CLOSED, Stage.SUSPENDED]))
        )
        .filter(open_cases__gt=0)
        .order_by("-open_cases", "id")
    )
    for agency in agencies.iterator():
        if all(len(chosen[role]) >= count for role, count in wanted.items()):
            break
        members = (
            Membership.objects.filter(
                agency=agency, is_active=True, user__is_active=True, role__in=list(wanted)
            )
            .annotate(memberships=Count("user__memberships"))
            .filter(memberships=1)
            .select_related("user")
            .order_by("user__username")
        )
        for membership in members:
            if len(chosen[membership.role]) < wanted[membership.role]:
                chosen[membership.role].append(membership)
    for role, count in wanted.items():
        if len(chosen[role]) < count:
            raise SystemExit(f"only {len(chosen[role])} {role}s with open cases; asked for {count}")

    users = [_caseworker(membership, per_caseworker) for membership in chosen[Role.CASEWORKER]] + [
        _supervisor(membership, per_supervisor) for membership in chosen[Role.SUPERVISOR]
    ]
    second_factor = _totp_devices([m for ms in chosen.values() for m in ms], users)
    _clear_failed_logins()
    return {
        "users": users,
        "summary": {
            "agencies": Agency.objects.count(),
            "clients": Client.objects.count(),
            "staff": Membership.objects.filter(is_active=True).count(),
            "caseworkers": len(chosen[Role.CASEWORKER]),
            "supervisors": len(chosen[Role.SUPERVISOR]),
            "user_agencies": len({m.agency_id for ms in chosen.values() for m in ms}),
            "second_factor": second_factor,
        },
    }


def _client_rows(cases) -> list[dict]:
    return [
        {
            "client": str(case.client.public_id),
            "kana": case.client.full_name_kana,
            "case": str(case.public_id),
        }
        for case in cases
    ]


def _caseworker(membership: Membership, limit: int) -> dict:
    cases = (
        Case.objects.filter(WORKED, agency_id=membership.agency_id, primary_worker=membership.user)
        .select_related("client")
        .order_by("next_contact_on", "id")[:limit]
    )
    rows = _client_rows(cases)
    if not rows:
        raise SystemExit(f"{membership.user.username} has no open case")
    return {"username": membership.user.username, "role": Role.CASEWORKER, "clients": rows}


def _supervisor(membership: Membership, limit: int) -> dict:
    cases = (
        Case.objects.filter(WORKED, agency_id=membership.agency_id)
        .select_related("client")
        .order_by("-last_contact_on", "id")[:limit]
    )
    return {
        "username": membership.user.username,
        "role": Role.SUPERVISOR,
        "clients": _client_rows(cases),
    }


def _totp_devices(memberships: list[Membership], users: list[dict]) -> str:
    """A confirmed TOTP device, made again each run with a key the simulated user is given,
    for each user who must log in with a second factor (supervisors and roster admins always,
    anyone whose agency asks it: the app's own rule)."""
    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return "none (django-otp is not installed)"
    device_model = apps.get_model("otp_totp", "TOTPDevice")
    by_name = {user["username"]: user for user in users}
    obliged = [m for m in memberships if must_use_second_factor(m.user, [m])]
    for membership in obliged:
        key = secrets.token_hex(20)
        # The code page checks the user's one authenticator: any other is replaced.
        device_model.objects.filter(user=membership.user).delete()
        device_model.objects.create(
            user=membership.user,
            name=TOTP_DEVICE_NAME,
            key=key,
            confirmed=True,
            # On a busy machine the code may wait in gunicorn's queue for longer than its
            # 30 s step: accept the codes of 4 steps either side (the default is 1).
            tolerance=4,
        )
        by_name[membership.user.username]["totp_key"] = key
    return f"TOTP for {len(obliged)} users (those who must use it)"


def _clear_failed_logins() -> None:
    """An earlier run's failed logins must not lock this one out: all users come from
    127.0.0.1, and django-axes locks an address out after 5 failures."""
    if apps.is_installed("axes"):
        apps.get_model("axes", "AccessAttempt").objects.all().delete()
