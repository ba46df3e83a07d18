"""Demo data for the embedded default. Idempotent: running it again changes nothing.

A real prefecture (長野県) with three of its municipalities, from the bundled code list; demo
agencies (named ＿（デモ） so nobody mistakes them for the real ones) of the four
self-reliance/hikikomori kinds and several partners; a municipal platform; users of every role.

Passwords are generated per installation and kept in ``var/demo_accounts.json`` (git-ignored),
so no password is ever committed. The command refuses to run in production.
"""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from accounts.models import User
from agencies.models import (
    Agency,
    Municipality,
    Network,
    NetworkKind,
    Operation,
    Role,
)
from agencies.models import (
    AgencyFunction as F,
)
from agencies.models import (
    AgencyKind as K,
)
from agencies.permissions import Viewer
from agencies.services import agency_create, membership_ensure, network_save

PREFECTURE, NAGANO, MATSUMOTO, UEDA = "200000", "202011", "202029", "202037"

# key: (name, kana, kind, implementing municipality, service area, functions, extra fields)
AGENCIES = {
    "jiritsu": (
        "長野市生活就労支援センター（デモ）",
        "ナガノシセイカツシュウロウシエンセンター",
        K.SELF_RELIANCE,
        NAGANO,
        [NAGANO],
        [F.SELF_RELIANCE_CONSULTATION, F.WORK_PREPARATION, F.HOUSEHOLD_FINANCE, F.HOUSING_BENEFIT],
        {
            "operation": Operation.CONTRACTED,
            "contractor_name": "社会福祉法人 長野市社会福祉協議会（デモ）",
            "phone": "026-000-0001",
            "opening_hours": "平日 8:30〜17:15",
        },
    ),
    "center": (
        "長野県ひきこもり支援センター（デモ）",
        "ナガノケンヒキコモリシエンセンター",
        K.HIKIKOMORI_CENTER,
        PREFECTURE,
        [PREFECTURE],
        [
            F.CONSULTATION,
            F.PLACE_TO_BE,
            F.NETWORKING,
            F.FAMILY_PEER_MEETINGS,
            F.PUBLIC_AWARENESS,
            F.MULTIDISCIPLINARY_TEAM,
            F.MUNICIPAL_BACKUP,
        ],
        {
            "phone": "026-000-0002",
            "opening_hours": "平日 9:00〜17:00",
            "public_note": "電話・メールでの相談のほか、ご自宅への訪問もできます。",
        },
    ),
    "station": (
        "松本市ひきこもり支援ステーション（デモ）",
        "マツモトシヒキコモリシエンステーション",
        K.HIKIKOMORI_STATION,
        MATSUMOTO,
        [MATSUMOTO],
        [F.CONSULTATION, F.PLACE_TO_BE, F.NETWORKING],
        {"phone": "0263-00-0003", "opening_hours": "火〜土 10:00〜18:00"},
    ),
    "project": (
        "上田市ひきこもりサポート事業（デモ）",
        "ウエダシヒキコモリサポートジギョウ",
        K.HIKIKOMORI_PROJECT,
        UEDA,
        [UEDA],
        [F.CONSULTATION, F.PLACE_TO_BE],
        {"phone": "0268-00-0004"},
    ),
    "shakyo": (
        "長野市社会福祉協議会（デモ）",
        "ナガノシシャカイフクシキョウギカイ",
        K.SOCIAL_WELFARE_COUNCIL,
        NAGANO,
        [NAGANO],
        [],
        {"phone": "026-000-0005", "receives_referrals": False},
    ),
    "hellowork": (
        "ハローワーク長野（デモ）",
        "ハローワークナガノ",
        K.HELLO_WORK,
        PREFECTURE,
        [NAGANO],
        [],
        {"phone": "026-000-0006", "receives_referrals": False},
    ),
    "saposute": (
        "ながの若者サポートステーション（デモ）",
        "ナガノワカモノサポートステーション",
        K.YOUTH_SUPPORT_STATION,
        NAGANO,
        [NAGANO, UEDA],
        [],
        {"phone": "026-000-0007"},
    ),
    "npo": (
        "NPO法人 居場所ネット信州（デモ）",
        "イバショネットシンシュウ",
        K.NPO,
        MATSUMOTO,
        [MATSUMOTO, UEDA],
        [F.PLACE_TO_BE, F.FAMILY_PEER_MEETINGS],
        {"phone": "0263-00-0008"},
    ),
    "farm": (
        "ファーム信州 就労体験農園（デモ）",
        "ファームシンシュウ",
        K.WORK_EXPERIENCE,
        NAGANO,
        [NAGANO],
        [],
        {"phone": "026-000-0009", "receives_referrals": False},
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
    "kobayashi": (
        "小林 誠",
        "コバヤシ マコト",
        [("center", Role.SUPERVISOR, True)],
        False,
    ),
    "sato": ("佐藤 次郎", "サトウ ジロウ", [("project", Role.CASEWORKER, False)], False),
    "ito": ("伊藤 健", "イトウ ケン", [("station", Role.SUPPORTER, False)], False),
    "admin": ("システム 管理者", "システム カンリシャ", [], True),
}
PEER_SUPPORTERS = {"ito"}


class Command(BaseCommand):
    help = "Create the demo roster (embedded default only) and print the logins."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production (DJANGO_ENV=production).")
        if not Municipality.objects.filter(code=PREFECTURE).exists():
            raise CommandError("The bundled municipality list is missing: run migrate first.")
        credentials = self._credentials()
        with transaction.atomic():
            users = {username: self._user(username, credentials) for username in ACCOUNTS}
            system = Viewer(user=users["admin"], membership=None)
            agencies = {key: self._agency(system, *spec) for key, spec in AGENCIES.items()}
            for username, (_name, _kana, memberships, _sys) in ACCOUNTS.items():
                for agency_key, role, roster_admin in memberships:
                    membership_ensure(
                        actor=users["admin"],
                        user=users[username],
                        agency=agencies[agency_key],
                        role=role,
                        is_roster_admin=roster_admin,
                        is_peer_supporter=username in PEER_SUPPORTERS,
                    )
            if not Network.objects.filter(
                name="長野市くらし・ひきこもり支援ネットワーク（デモ）"
            ).exists():
                network_save(
                    viewer=system,
                    network=None,
                    fields={
                        "name": "長野市くらし・ひきこもり支援ネットワーク（デモ）",
                        "kind": NetworkKind.MUNICIPAL_PLATFORM,
                        "municipality": Municipality.objects.get(code=NAGANO),
                        "coordinating_agency": agencies["jiritsu"],
                    },
                    members=[
                        agencies[k] for k in ("center", "shakyo", "hellowork", "saposute", "farm")
                    ],
                )
        with translation.override("ja"):
            self._print(credentials)

    def _user(self, username: str, credentials: dict[str, str]) -> User:
        full_name, kana, _memberships, system_admin = ACCOUNTS[username]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                full_name=full_name,
                full_name_kana=kana,
                email=f"{username}@example.jp",
                is_system_admin=system_admin,
            )
            user.set_password(credentials[username])
            user.save()
        return user

    def _agency(self, system: Viewer, name, kana, kind, municipality, area, functions, extra):
        agency = Agency.objects.filter(name=name).first()
        if agency is not None:
            return agency
        by_code = Municipality.objects.in_bulk([municipality, *area], field_name="code")
        return agency_create(
            viewer=system,
            fields={
                "name": name,
                "name_kana": kana,
                "kind": kind,
                "municipality": by_code[municipality],
                **extra,
            },
            service_area=[by_code[code] for code in area],
            functions=list(functions),
        )

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
            roles = ", ".join(
                f"{AGENCIES[a][0]} {r.label}{'・名簿管理者' if admin else ''}"
                for a, r, admin in memberships
            )
            if system_admin:
                roles = "システム管理者"
            self.stdout.write(
                f"  {username:<10} {credentials[username]:<14} {full_name}  ({roles})"
            )
