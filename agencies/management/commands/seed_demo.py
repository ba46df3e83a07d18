"""Demo data for the embedded default. Idempotent: running it again changes nothing.

Passwords are generated per installation and kept in ``var/demo_accounts.json`` (git-ignored),
so no password is ever committed. The command refuses to run in production.
"""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from agencies.models import Agency, AgencyKind, Role
from agencies.services import membership_ensure

AGENCIES = {
    "jiritsu": (
        "つなぐ市 自立相談支援センター",
        "つなぐしじりつそうだんしえんせんたー",
        AgencyKind.SELF_RELIANCE,
    ),
    "station": (
        "つなぐ市 ひきこもり支援ステーション",
        "つなぐしひきこもりしえんすてーしょん",
        AgencyKind.HIKIKOMORI_STATION,
    ),
}

# username: (full name, kana, [(agency key, role, roster admin)], system admin)
ACCOUNTS = {
    "tanaka": ("田中 一郎", "タナカ イチロウ", [("station", Role.CASEWORKER, False)], False),
    "suzuki": ("鈴木 花子", "スズキ ハナコ", [("jiritsu", Role.SUPERVISOR, False)], False),
    "takahashi": (
        "高橋 美咲",
        "タカハシ ミサキ",
        [("jiritsu", Role.CASEWORKER, True), ("station", Role.CASEWORKER, False)],
        False,
    ),
    "ito": ("伊藤 健", "イトウ ケン", [("station", Role.SUPPORTER, False)], False),
    "admin": ("システム 管理者", "システム カンリシャ", [], True),
}


class Command(BaseCommand):
    help = "Create the demo agencies and accounts (embedded default only) and print the logins."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production (DJANGO_ENV=production).")
        credentials = self._credentials()
        with transaction.atomic():
            agencies = {
                key: Agency.objects.update_or_create(
                    name=name, defaults={"name_kana": kana, "kind": kind}
                )[0]
                for key, (name, kana, kind) in AGENCIES.items()
            }
            for username, (full_name, kana, memberships, system_admin) in ACCOUNTS.items():
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "full_name": full_name,
                        "full_name_kana": kana,
                        "email": f"{username}@example.jp",
                        "is_system_admin": system_admin,
                    },
                )
                if created:
                    user.set_password(credentials[username])
                    user.save()
                for agency_key, role, roster_admin in memberships:
                    membership_ensure(
                        actor=None,
                        user=user,
                        agency=agencies[agency_key],
                        role=role,
                        is_roster_admin=roster_admin,
                    )
        self._print(credentials)

    def _credentials(self) -> dict[str, str]:
        path = settings.VAR_DIR / "demo_accounts.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        for username in ACCOUNTS:
            stored.setdefault(username, secrets.token_urlsafe(9))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
        return stored

    def _print(self, credentials: dict[str, str]) -> None:
        self.stdout.write(self.style.SUCCESS("Demo accounts (embedded default only):"))
        for username, (full_name, _kana, memberships, system_admin) in ACCOUNTS.items():
            roles = ", ".join(f"{AGENCIES[a][0]} {r.label}" for a, r, _ra in memberships)
            if system_admin:
                roles = "system admin"
            self.stdout.write(
                f"  {username:<10} {credentials[username]:<14} {full_name}  ({roles})"
            )
