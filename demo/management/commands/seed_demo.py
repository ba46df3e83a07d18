"""Demo data for the embedded default. Idempotent: running it again changes nothing.

A real prefecture (長野県) with three of its municipalities, from the bundled code list; demo
agencies (named ＿（デモ） so nobody mistakes them for the real ones) of the four
self-reliance/hikikomori kinds and several partners; a municipal platform; users of every role.

Passwords are generated per installation and kept in ``var/demo_accounts.json`` (git-ignored),
so no password is ever committed. The command refuses to run in production.
"""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import User
from agencies.models import (
    Agency,
    Membership,
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
from cases.models import Client, Meeting, VisitOutcome
from cases.services import (
    case_open,
    client_create,
    consultation_log,
    home_visit_log,
    household_member_save,
    household_save,
    meeting_case_record,
    meeting_save,
    plan_create,
    plan_goal_save,
    plan_item_save,
    plan_record_agreement,
    supporter_assign,
)
from consent.services import consent_record
from councils.models import SupportCouncil
from councils.services import (
    agenda_item_add,
    council_create,
    council_member_add,
    council_session_create,
)
from referrals.models import Referral
from referrals.services import referral_accept, referral_draft, referral_send
from reminders.sweep import reminders_sweep

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
    "yamaguchi": (
        "山口 由紀",
        "ヤマグチ ユキ",
        [("station", Role.ADMINISTRATIVE, True)],
        False,
    ),
    "admin": ("システム 管理者", "システム カンリシャ", [], True),
}
PEER_SUPPORTERS = {"ito"}

# Fictional people; ages relative to today so the demo does not grow old.
DEMO_CLIENTS = [
    {
        "name": "山本 太郎",
        "kana": "ヤマモト タロウ",
        "age": 53,
        "origin": "family",
        "topics": ["hikikomori", "family", "income"],
        "mother_age": 82,
        "contact": ["letter_only", "through_family"],
        "with_client": False,
        "wishes": "（母より）本人は外に出たい気持ちはあるようだ",
        "case": {"withdrawal_duration": "10y", "going_out": "shop"},
        "consultations": [
            (30, "母親から電話。本人の様子を聞き取り", None),
            (10, "母親と面談。家計の不安", -3),
        ],
    },
    {
        "name": "小川 さくら",
        "kana": "オガワ サクラ",
        "age": 27,
        "origin": "walk_in",
        "topics": ["job_search", "health"],
        "contact": ["email_ok", "no_phone"],
        "wishes": "少しずつ働けるようになりたい",
        "consultations": [(14, "来所。就労準備支援の説明", None), (2, "電話。体調は安定", 0)],
    },
    {
        "name": "森 健一",
        "kana": "モリ ケンイチ",
        "age": 41,
        "origin": "outreach",
        "topics": ["hikikomori", "debt"],
        "case": {"withdrawal_duration": "3y5y"},
        "consultations": [(5, "訪問。玄関先で短く話せた", 9)],
    },
]


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
            self._clients(users["tanaka"])
            self._plans_and_visits(users["tanaka"], agencies)
            self._support_council(users, agencies)
            self._linked_record(users, agencies)
            self._reminder_conditions(users, agencies)
        # 山本's planned contact is overdue, 小川's is due today, a 支援調整会議 is tomorrow and the
        # supporter reached nobody three times: sweep once now so the notification centre shows
        # them at once; the worker sweeps again when it is ready and sends the emails.
        reminders_sweep()
        with translation.override("ja"):
            self._print(credentials)

    def _clients(self, caseworker: User) -> None:
        """A few clients of the station, so every screen has something real to show."""
        viewer = Viewer(user=caseworker, membership=caseworker.memberships.get())
        today = timezone.localdate()
        for spec in DEMO_CLIENTS:
            if Client.objects.filter(agency=viewer.agency, full_name=spec["name"]).exists():
                continue
            client = client_create(
                viewer=viewer,
                duplicate_confirmed=True,
                fields={
                    "full_name": spec["name"],
                    "full_name_kana": spec["kana"],
                    "birth_date": today.replace(year=today.year - spec["age"], day=1),
                    "contact_preferences": spec.get("contact", []),
                    "wishes": spec.get("wishes", ""),
                },
            )
            case = case_open(
                viewer=viewer,
                client=client,
                fields={
                    "origin": spec["origin"],
                    "opened_on": today - timedelta(days=60),
                    **spec.get("case", {}),
                },
                topics=spec["topics"],
                main_topic=spec["topics"][0],
                primary_worker=caseworker,
            )
            if spec.get("mother_age"):
                household_save(viewer=viewer, client=client, postal_code="", address="", note="")
                household_member_save(
                    viewer=viewer,
                    client=Client.objects.get(pk=client.pk),
                    member=None,
                    fields={
                        "name": "",
                        "relationship": "mother",
                        "age": spec["mother_age"],
                        "lives_together": True,
                    },
                )
            for days_ago, summary, next_in in spec.get("consultations", []):
                consultation_log(
                    viewer=viewer,
                    case=case,
                    fields={
                        "method": "phone",
                        "summary": summary,
                        "occurred_on": today - timedelta(days=days_ago),
                        "with_client": spec.get("with_client", True),
                        "next_contact_on": today + timedelta(days=next_in)
                        if next_in is not None
                        else None,
                    },
                )

    def _plans_and_visits(self, caseworker: User, agencies: dict) -> None:
        """A plan approved at a meeting for 小川, and the supporter dispatched to 山本."""
        viewer = Viewer(user=caseworker, membership=caseworker.memberships.get())
        today = timezone.localdate()
        ogawa = Client.objects.get(agency=viewer.agency, full_name="小川 さくら")
        case = ogawa.cases.get()
        if not case.plans.exists():
            plan = plan_create(
                viewer=viewer,
                case=case,
                client_words="少しずつ働けるようになりたい",
                review_on=today + timedelta(days=90),
            )
            goal = plan_goal_save(
                viewer=viewer, plan=plan, goal=None, text="週に2回、決まった時間に外出する"
            )
            plan_item_save(
                viewer=viewer,
                plan=plan,
                item=None,
                fields={
                    "what": "居場所への参加（見守り・傾聴）",
                    "agency": viewer.agency,
                    "program": "hikikomori_support",
                    "frequency": "週1回",
                    "goal": goal,
                    "responsible": caseworker.full_name,
                },
            )
            plan_item_save(
                viewer=viewer,
                plan=plan,
                item=None,
                fields={
                    "what": "就労準備支援（生活リズムの立て直し）",
                    "agency": agencies["jiritsu"],
                    "program": "work_preparation",
                    "frequency": "週1回",
                    "goal": goal,
                },
            )
            plan_record_agreement(
                viewer=viewer, plan=plan, agreed_on=today - timedelta(days=7), method="signed"
            )
            meeting = meeting_save(
                viewer=viewer,
                meeting=None,
                fields={
                    "held_on": today - timedelta(days=3),
                    "place": "ステーション会議室",
                    "minutes": "小川さんのプランを協議し、承認した。",
                },
                participant_agencies=[agencies["jiritsu"]],
                participant_users=[caseworker],
            )
            meeting_case_record(
                viewer=viewer,
                meeting=meeting,
                case=case,
                plan=plan,
                decisions=["plan_approved", "roles_split"],
                next_review_on=today + timedelta(days=90),
                note="",
            )
        yamamoto = Client.objects.get(agency=viewer.agency, full_name="山本 太郎")
        supporter = Membership.objects.get(user__username="ito", agency=viewer.agency)
        supporter_assign(
            viewer=viewer,
            client=yamamoto,
            supporter=supporter,
            approach_note="インターホンは2回まで。まず母親に声をかける。",
        )

    def _reminder_conditions(self, users: dict[str, User], agencies: dict) -> None:
        """Conditions that are due the moment the demo starts, so a person trying it sees
        reminders of several kinds arrive (notification centre and var/mail/)."""
        caseworker = users["tanaka"]
        viewer = Viewer(user=caseworker, membership=caseworker.memberships.get())
        today = timezone.localdate()
        tomorrow = today + timedelta(days=1)
        if not Meeting.objects.filter(agency=viewer.agency, held_on=tomorrow).exists():
            meeting_save(
                viewer=viewer,
                meeting=None,
                fields={"held_on": tomorrow, "place": "ステーション会議室"},
                participant_agencies=[agencies["jiritsu"]],
                participant_users=[caseworker, users["suzuki"]],
            )
        yamamoto = Client.objects.get(agency=viewer.agency, full_name="山本 太郎")
        if not yamamoto.home_visits.exists():
            supporter = users["ito"]
            supporter_viewer = Viewer(user=supporter, membership=supporter.memberships.get())
            for days_ago in (15, 8, 1):
                home_visit_log(
                    viewer=supporter_viewer,
                    client=yamamoto,
                    fields={
                        "visited_on": today - timedelta(days=days_ago),
                        "outcome": VisitOutcome.NO_ANSWER,
                    },
                )

    # --- つなぎ and the live view ---------------------------------------------------------------

    def _linked_record(self, users: dict[str, User], agencies: dict) -> None:
        """小川 agreed to pass her basic information and consultations (not her health) to the
        self-reliance agency; the つなぎ was accepted, so 鈴木 there can open the station's live
        record and sees 同意なし where the consent does not reach."""
        station, jiritsu = agencies["station"], agencies["jiritsu"]
        ogawa = Client.objects.get(agency=station, full_name="小川 さくら")
        if Referral.objects.filter(client=ogawa, to_agency=jiritsu).exists():
            return
        tanaka, suzuki = users["tanaka"], users["suzuki"]
        viewer = Viewer(user=tanaka, membership=tanaka.memberships.get())
        categories = ["basic", "consultation"]
        consent_record(
            viewer=viewer,
            client=ogawa,
            recipient=jiritsu,
            purpose="referral",
            categories=categories,
            method="written",
        )
        referral = referral_draft(
            viewer=viewer,
            client=ogawa,
            fields={
                "type": "tsunagi",
                "to_agency": jiritsu,
                "reason": "就労準備支援事業の利用を希望",
                "client_wishes": "少しずつ働けるようになりたい",
                "categories": categories,
            },
        )
        referral_send(viewer=viewer, referral=referral)
        referral_accept(
            viewer=Viewer(user=suzuki, membership=suzuki.memberships.get()), referral=referral
        )

    # --- 支援会議 ---------------------------------------------------------------------------

    def _support_council(self, users: dict[str, User], agencies: dict) -> None:
        """長野市's 支援会議 (生活困窮者自立支援法 9条), run by the self-reliance agency, with a
        session in three days and 山本 on its agenda: 鈴木 sees him on the council basis."""
        name = "長野市支援会議（デモ）"
        if SupportCouncil.objects.filter(name=name).exists():
            return
        today = timezone.localdate()
        council = council_create(
            viewer=Viewer(user=users["admin"], membership=None),
            municipality=Municipality.objects.get(code=NAGANO),
            name=name,
            legal_basis="self_reliance_9",
            chair_agency=agencies["jiritsu"],
            confidentiality_note=(
                "構成員は生活困窮者自立支援法第9条第5項により守秘義務を負う"
                "（長野市支援会議設置要綱（デモ））。"
            ),
            established_on=today - timedelta(days=90),
        )
        secretariat = Viewer(user=users["suzuki"], membership=users["suzuki"].memberships.get())
        for key in ("center", "shakyo", "station"):
            council_member_add(
                viewer=secretariat,
                council=council,
                agency=agencies[key],
                joined_on=today - timedelta(days=60),
            )
        session = council_session_create(
            viewer=secretariat,
            council=council,
            held_on=today + timedelta(days=3),
            title="第4回 定例会",
        )
        tanaka = users["tanaka"]
        agenda_item_add(
            viewer=Viewer(user=tanaka, membership=tanaka.memberships.get()),
            session=session,
            client=Client.objects.get(agency=agencies["station"], full_name="山本 太郎"),
            categories=["basic", "household", "finance"],
            reason="80代の母と同居。家計の不安があるが、本人はまだ支援につながっていない。",
        )

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
