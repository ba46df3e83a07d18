"""National-size data in bulk (``manage.py seed_scale``), for the benchmarks of issue 13.

What a national installation looks like after some years: agencies of the real kinds on real
municipalities (the bundled ministry list), about four staff each, clients in households of one
to five (8050 households among them), cases opened over six years (the older ones closed, the
open ones a caseload each caseworker could carry), about six consultations per client, plans,
consents, referrals for one client in seven with the provision and confirmation records the
services write, supporters' visits, reminders and an access log of about three looks per client.

Rows go in through PostgreSQL ``COPY`` (psycopg 3, ``write_row``), generated in Python in chunks
of clients and written table by table in foreign-key order, inside one transaction with every
constraint checked: the foreign keys (deferred by Django) are made immediate so each ``COPY``
is checked when it ends instead of queueing millions of checks for the commit. Ids are given
explicitly (so rows of one chunk can point at each other) and the sequences are moved past them
at the end. A seeded ``random.Random`` makes every run on an empty database the same shape.

Not generated: audit entries (they describe changes made through the services, and none were),
meetings, councils, emergency disclosures and referral threads.
"""

import json
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from psycopg import sql

from accounts.models import User
from agencies.models import (
    Agency,
    AgencyFunctionEntry,
    Membership,
    Municipality,
    MunicipalityKind,
    Operation,
    Role,
    SupporterProfile,
)
from agencies.models import AgencyFunction as F
from agencies.models import AgencyKind as K
from audit.models import AccessEntry, AccessOutcome
from cases.models import (
    STAGE_ORDER,
    Case,
    CaseOrigin,
    CaseTopic,
    Client,
    Consultation,
    GoingOut,
    HomeVisit,
    Household,
    HouseholdMember,
    Method,
    Outcome,
    Plan,
    PlanGoal,
    PlanItem,
    PlanStatus,
    Program,
    Relationship,
    Stage,
    StageMove,
    SupporterAssignment,
    SupportType,
    Topic,
    VisitOutcome,
    WithdrawalDuration,
    WithdrawalTrigger,
)
from consent.gate import Basis
from consent.models import Consent, ConsentMethod, DataCategory, GivenBy, Purpose
from core.japanese import search_key
from referrals.models import (
    NEEDS_CONSENT,
    RECEIVED,
    ConfirmationRecord,
    ProvisionRecord,
    Referral,
    ReferralType,
    Status,
)
from reminders.models import Kind, Reminder, TargetType

from .names import FEMALE_GIVEN, MALE_GIVEN, SURNAMES

JST = ZoneInfo("Asia/Tokyo")
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
YEARS = 6  # cases were opened over this many years
CASELOAD = 80  # open cases a caseworker carries at most
CHUNK = 10_000  # clients generated before their rows are written
LARGE_STAFF = {Role.SUPERVISOR: 4, Role.CASEWORKER: 30, Role.SUPPORTER: 4, Role.ADMINISTRATIVE: 2}
SAMPLE_CONSULTATIONS = 80

# Kinds in roughly national proportions (about 900 自立相談支援機関 of 1,400), with the name and
# reading each gets after its municipality, which municipality kinds run it, what it offers.
KINDS = [
    (K.SELF_RELIANCE, 0.62, "生活自立相談センター", "セイカツジリツソウダンセンター"),
    (K.HIKIKOMORI_CENTER, 0.05, "ひきこもり地域支援センター", "ヒキコモリチイキシエンセンター"),
    (K.HIKIKOMORI_STATION, 0.14, "ひきこもり支援ステーション", "ヒキコモリシエンステーション"),
    (K.HIKIKOMORI_PROJECT, 0.09, "ひきこもりサポート事業", "ヒキコモリサポートジギョウ"),
    (K.SOCIAL_WELFARE_COUNCIL, 0.03, "社会福祉協議会", "シャカイフクシキョウギカイ"),
    (K.YOUTH_SUPPORT_STATION, 0.02, "若者サポートステーション", "ワカモノサポートステーション"),
    (K.NPO, 0.02, "居場所ネット", "イバショネット"),
    (K.HELLO_WORK, 0.01, "公共職業安定所", "コウキョウショクギョウアンテイジョ"),
    (K.MENTAL_HEALTH_CENTER, 0.01, "精神保健福祉センター", "セイシンホケンフクシセンター"),
    (K.FAMILY_OR_PEER_GROUP, 0.01, "ひきこもり家族会", "ヒキコモリカゾクカイ"),
]  # fmt: skip
HOLDERS = {K.SELF_RELIANCE, K.HIKIKOMORI_CENTER, K.HIKIKOMORI_STATION, K.HIKIKOMORI_PROJECT}
HIKIKOMORI = {K.HIKIKOMORI_CENTER, K.HIKIKOMORI_STATION, K.HIKIKOMORI_PROJECT}
CLIENT_WEIGHT = {
    K.SELF_RELIANCE: 1.0,
    K.HIKIKOMORI_CENTER: 0.8,
    K.HIKIKOMORI_STATION: 0.5,
    K.HIKIKOMORI_PROJECT: 0.3,
}
NO_REFERRALS = {K.HELLO_WORK, K.SOCIAL_WELFARE_COUNCIL, K.FAMILY_OR_PEER_GROUP}
CITIES = {
    MunicipalityKind.DESIGNATED_CITY,
    MunicipalityKind.CORE_CITY,
    MunicipalityKind.CITY,
    MunicipalityKind.SPECIAL_WARD,
}
SITES = {
    K.SELF_RELIANCE: CITIES | {MunicipalityKind.PREFECTURE},
    K.HIKIKOMORI_CENTER: {MunicipalityKind.PREFECTURE, MunicipalityKind.DESIGNATED_CITY},
    K.MENTAL_HEALTH_CENTER: {MunicipalityKind.PREFECTURE, MunicipalityKind.DESIGNATED_CITY},
}
FUNCTIONS = {
    K.SELF_RELIANCE: [
        F.SELF_RELIANCE_CONSULTATION,
        F.WORK_PREPARATION,
        F.HOUSEHOLD_FINANCE,
        F.HOUSING_BENEFIT,
    ],
    K.HIKIKOMORI_CENTER: [
        F.CONSULTATION,
        F.PLACE_TO_BE,
        F.NETWORKING,
        F.FAMILY_PEER_MEETINGS,
        F.PUBLIC_AWARENESS,
        F.MULTIDISCIPLINARY_TEAM,
        F.MUNICIPAL_BACKUP,
    ],
    K.HIKIKOMORI_STATION: [F.CONSULTATION, F.PLACE_TO_BE, F.NETWORKING],
    K.HIKIKOMORI_PROJECT: [F.CONSULTATION, F.PLACE_TO_BE],
    K.NPO: [F.PLACE_TO_BE, F.FAMILY_PEER_MEETINGS],
}

SUMMARIES_WITH_CLIENT = [
    "近況確認。生活リズムは安定している",
    "就労に向けた希望を聞き取り",
    "家計の状況を一緒に整理",
    "居場所への参加について相談",
    "体調不良の訴えあり。受診を勧めた",
    "ハローワークへの同行の日程を調整",
    "住居確保給付金の申請書類を確認",
    "本人と面談。外出の頻度が増えてきた",
    "支援プランの振り返り",
    "債務の状況を確認し、法テラスを案内",
]
SUMMARIES_FAMILY = [
    "母より電話。本人の様子に変わりなし",
    "家族面談。親の高齢化への不安を傾聴",
    "父より相談。本人との会話が増えたとのこと",
    "家族会への参加を案内",
    "手紙を送付。返信はまだない",
]
NOTES = [
    "次回は自宅近くの公民館で会う約束。",
    "本人の言葉：「少しずつでいいので外に出たい」",
    "食料支援につなぐ必要あり。",
    "連絡は午後3時以降が望ましい。",
    "",
]
REASONS = [
    "就労準備支援の利用を希望しているため",
    "家計の立て直しについて専門的な支援が必要なため",
    "居場所の利用を本人が希望しているため",
    "転居に伴い、転居先での支援をお願いしたい",
    "医療的な支援が必要と思われるため",
]
WISHES = [
    "自分のペースで働けるようになりたい",
    "人と話せる場所がほしい",
    "家族に迷惑をかけたくない",
    "生活を落ち着かせたい",
]
GOALS = [
    "週に2回、決まった時間に外出する",
    "生活リズムを整える",
    "家計簿をつけて支出を把握する",
    "就労体験に参加する",
    "居場所に月2回参加する",
]
ITEMS = [
    ("就労準備支援（生活リズムの立て直し）", Program.WORK_PREPARATION),
    ("家計改善支援（家計表の作成）", Program.HOUSEHOLD_FINANCE),
    ("居場所への参加（見守り・傾聴）", Program.HIKIKOMORI_SUPPORT),
    ("自立相談支援（定期面談）", Program.SELF_RELIANCE_CONSULTATION),
]
HEARD = ["母と玄関先で話した", "本人は部屋にいるとのこと", "手紙を置いてきた", ""]
CATEGORIES = list(DataCategory.values)
PREFERENCES = ["letter_only", "through_family", "no_phone", "visit_ok", "text_ok", "email_ok"]
SUPPORTTYPE_VALUES = list(SupportType.values)
CASEORIGIN_VALUES = list(CaseOrigin.values)
WITHDRAWALDURATION_VALUES = list(WithdrawalDuration.values)
WITHDRAWALTRIGGER_VALUES = list(WithdrawalTrigger.values)
GOINGOUT_VALUES = list(GoingOut.values)
VISITOUTCOME_VALUES = list(VisitOutcome.values)
CONSENTMETHOD_VALUES = list(ConsentMethod.values)
METHODS_WITH_CLIENT = (
    [Method.PHONE] * 8
    + [Method.VISIT_OFFICE] * 6
    + [
        Method.HOME_VISIT,
        Method.HOME_VISIT,
        Method.HOME_VISIT,
        Method.EMAIL,
        Method.EMAIL,
        Method.ONLINE,
        Method.ACCOMPANY,
    ]
)
METHODS_FAMILY = [Method.PHONE] * 6 + [Method.VISIT_OFFICE, Method.LETTER]
OPEN_STAGES = (
    [Stage.INTAKE] * 10
    + [Stage.ASSESSMENT] * 15
    + [Stage.PLANNING] * 15
    + [Stage.SUPPORT] * 40
    + [Stage.MONITORING] * 15
    + [Stage.SUSPENDED] * 5
)
TOPICS = [t for t in Topic.values if t != Topic.HIKIKOMORI]
CLOSING_OUTCOMES = list(Outcome.values)
# Referral statuses by type, in proportions a queue sees over years.
STATUS_WEIGHTS = {
    ReferralType.TSUNAGI: (
        [Status.DRAFT, Status.SENT, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN],
        [2, 8, 12, 6, 3],
        Status.COMPLETED,
        69,
    ),
    ReferralType.JOINT: (
        [Status.DRAFT, Status.SENT, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN],
        [2, 8, 10, 5, 3],
        Status.IN_SUPPORT,
        72,
    ),
    ReferralType.INTRODUCTION: (
        [Status.SENT, Status.ACCEPTED, Status.DECLINED],
        [8, 20, 4],
        Status.COMPLETED,
        68,
    ),
}


# The client tables in foreign-key order (staff: written by the database from consultations).
CLIENT_TABLES = [
    "household", "client", "member", "case", "topic", "move", "consultation", "staff", "plan",
    "goal", "item", "assignment", "visit", "consent", "referral", "provision", "confirmation",
    "access", "reminder",
]  # fmt: skip


class Table:
    """One table's buffered rows, its columns from the model's ``_meta`` and its next id."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        meta = model._meta
        self.model = model
        self.name = meta.db_table
        self.columns = [meta.get_field(name).column for name in fields]
        # Every NOT NULL column must be given: COPY does not apply Django's defaults.
        missing = [
            f.name
            for f in meta.concrete_fields
            if not f.null
            and f.name not in fields
            and not f.has_db_default()
            and not f.generated  # computed by the database (a GeneratedField)
        ]
        if missing:
            raise ValueError(f"{self.name}: no value for NOT NULL {missing}")
        self.rows: list[tuple] = []
        self.first_id = self.last_id = 0
        self.count = 0

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def take(self) -> list[tuple]:
        rows, self.rows = self.rows, []
        self.count += len(rows)
        return rows

    def copy(self, cursor, rows: list[tuple]) -> None:
        if not rows:
            return
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        # COPY's text format built here: several times faster than write_row per value.
        with cursor.copy(query) as copy:
            for start in range(0, len(rows), 5_000):
                copy.write(
                    "".join(
                        "\t".join([_text(value) for value in row]) + "\n"
                        for row in rows[start : start + 5_000]
                    )
                )

    def foreign_keys(self) -> list[tuple[str, str, str]]:
        """(column, referenced table, referenced column) of each foreign key written."""
        keys = []
        for f in self.model._meta.concrete_fields:
            if f.is_relation and f.db_constraint and f.column in self.columns:
                target = f.target_field
                keys.append((f.column, target.model._meta.db_table, target.column))
        return keys


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Writer(threading.Thread):
    """Writes the chunks through the same connection (so in the same transaction) while the
    next chunk is generated: PostgreSQL's work overlaps Python's, on a second core."""

    def __init__(self, raw_connection) -> None:
        super().__init__(name="seed_scale writer", daemon=True)
        self.raw_connection = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None

    def run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                with self.raw_connection.cursor() as cursor:
                    for table, rows in batch:
                        table.copy(cursor, rows)
            except BaseException as error:  # handed to the main thread by put() or close()
                self.error = error

    def put(self, batch: list) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def _through(model: type[Model], name: str) -> type[Model]:
    return model._meta.get_field(name).remote_field.through


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@cache
def _json_list(values: tuple) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def pick(rng: random.Random, seq: list | tuple) -> Any:
    """``rng.choice`` without its overhead (millions of calls)."""
    return seq[int(rng.random() * len(seq))]


def randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


@cache
def _keys(name: str, kana: str) -> tuple[str, str]:
    return search_key(name), search_key(kana)


@dataclass
class Staff:
    user_id: int
    membership_id: int
    role: str
    username: str


@dataclass
class AgencyInfo:
    id: int
    public_id: str
    name: str
    kind: str
    municipality: Municipality
    prefecture_id: int
    receives: bool
    staff: list[Staff] = field(default_factory=list)

    @property
    def supervisors(self) -> list[Staff]:
        return [s for s in self.staff if s.role == Role.SUPERVISOR]

    @property
    def caseworkers(self) -> list[Staff]:
        return [s for s in self.staff if s.role == Role.CASEWORKER]

    @property
    def workers(self) -> list[Staff]:
        return [s for s in self.staff if s.role in (Role.CASEWORKER, Role.SUPERVISOR)]

    @property
    def supporters(self) -> list[Staff]:
        return [s for s in self.staff if s.role == Role.SUPPORTER]


@dataclass
class Sample:
    """What the benchmark needs to find again."""

    client_public_id: str = ""
    client_kana: str = ""
    referral_public_id: str = ""


class ScaleSeeder:
    def __init__(
        self,
        *,
        clients: int,
        agencies: int,
        seed: int,
        password: str,
        progress: Callable[[str], None],
    ) -> None:
        self.target_clients = clients
        self.target_agencies = agencies
        self.rng = random.Random(seed)  # noqa: S311 — made-up data, reproducible on purpose
        self.password = password
        self.progress = progress
        self.started = time.monotonic()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.sample = Sample()
        self.tables = self._tables()

    # --- Tables -----------------------------------------------------------------------------

    def _tables(self) -> dict[str, Table]:
        return {
            "agency": Table(Agency, [
                "id", "public_id", "name", "name_kana", "kind", "municipality", "operation",
                "contractor_name", "postal_code", "address", "phone", "email", "opening_hours",
                "public_note", "receives_referrals", "consent_validity_days",
                "referral_alert_business_days", "next_contact_overdue_days", "no_contact_days",
                "no_contact_supervisor_days", "first_contact_business_days",
                "plan_review_days_before", "consent_expiring_days_before",
                "visits_without_contact", "closed_year_end", "active_from", "search_key",
                "created_at", "updated_at",
            ]),
            "function": Table(AgencyFunctionEntry, ["id", "agency", "function"]),
            "area": Table(_through(Agency, "service_area"), ["id", "agency", "municipality"]),
            "user": Table(User, [
                "id", "password", "is_superuser", "username", "email", "is_staff", "is_active",
                "date_joined", "full_name", "full_name_kana", "is_system_admin", "session_epoch",
            ]),
            "membership": Table(Membership, [
                "id", "public_id", "user", "agency", "role", "is_roster_admin", "is_active",
                "created_at",
            ]),
            "supporter": Table(SupporterProfile, ["id", "membership", "is_peer_supporter"]),
            "household": Table(Household, [
                "id", "public_id", "agency", "postal_code", "address", "note", "created_at",
            ]),
            "client": Table(Client, [
                "id", "public_id", "agency", "household", "full_name", "full_name_kana",
                "birth_date", "gender", "postal_code", "address", "phone", "phone_alt", "email",
                "contact_preferences", "contact_note", "wishes", "first_direct_contact_on",
                "name_key", "kana_key", "created_by", "created_at", "updated_at",
            ]),
            "member": Table(HouseholdMember, [
                "id", "household", "client", "name", "relationship", "birth_year",
                "lives_together", "in_withdrawal", "note",
            ]),
            "case": Table(Case, [
                "id", "public_id", "client", "agency", "opened_on", "origin", "support_type",
                "stage", "primary_worker", "withdrawal_duration", "withdrawal_triggers",
                "going_out", "closed_on", "outcomes", "closure_note", "last_contact_on",
                "next_contact_on", "created_at", "updated_at",
            ]),
            "topic": Table(CaseTopic, ["id", "case", "topic", "is_main"]),
            "move": Table(StageMove, [
                "id", "case", "from_stage", "to_stage", "moved_on", "moved_at", "moved_by",
                "reason",
            ]),
            "consultation": Table(Consultation, [
                "id", "public_id", "case", "occurred_on", "start_time", "duration_minutes",
                "method", "with_client", "family_member", "summary", "notes", "next_contact_on",
                "tags", "created_by", "created_at", "updated_at",
            ]),
            "staff": Table(_through(Consultation, "staff"), ["id", "consultation", "user"]),
            "plan": Table(Plan, [
                "id", "public_id", "case", "version", "status", "client_words", "review_on",
                "agreed_on", "agreement_method", "revision_reason", "created_by", "created_at",
                "updated_at",
            ]),
            "goal": Table(PlanGoal, ["id", "plan", "position", "text"]),
            "item": Table(PlanItem, [
                "id", "plan", "goal", "position", "what", "agency", "program", "frequency",
                "responsible",
            ]),
            "assignment": Table(SupporterAssignment, [
                "id", "client", "supporter", "approach_note", "assigned_by", "assigned_on",
                "ended_on",
            ]),
            "visit": Table(HomeVisit, [
                "id", "public_id", "client", "supporter", "visited_on", "outcome", "heard",
                "is_urgent", "urgent_note", "acknowledged_by", "acknowledged_at", "created_at",
            ]),
            "consent": Table(Consent, [
                "id", "public_id", "client", "recipient", "purpose", "categories", "method",
                "scan", "given_by", "representative_name", "obtained_by", "obtained_on",
                "valid_until", "withdrawn_how", "created_at",
            ]),
            "referral": Table(Referral, [
                "id", "public_id", "type", "from_agency", "from_worker", "to_agency", "client",
                "reason", "client_wishes", "urgency", "categories", "message", "status",
                "sent_at", "answered_at", "answered_by", "decline_reason", "assignee",
                "receiving_client", "snapshot", "first_contact_on", "completed_at",
                "created_at", "updated_at",
            ]),
            "provision": Table(ProvisionRecord, [
                "id", "referral", "provided_at", "provider", "recipient", "client",
                "categories", "consents", "provided_by",
            ]),
            "confirmation": Table(ConfirmationRecord, [
                "id", "referral", "received_at", "recipient", "provider", "client",
                "categories", "how_obtained", "confirmed_by",
            ]),
            "access": Table(AccessEntry, [
                "id", "at", "user", "agency", "client", "outcome", "basis", "categories",
                "withheld", "page", "path",
            ]),
            "reminder": Table(Reminder, [
                "id", "public_id", "kind", "agency", "target_type", "target_id", "recipient",
                "due_on", "created_at", "send_after", "sent_at", "read_at", "error", "attempts",
            ]),
        }  # fmt: skip

    # --- Small helpers ----------------------------------------------------------------------

    def _uuid(self) -> str:
        # A version-4 UUID from the seeded generator, as text (what COPY reads).
        h = f"{self.rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _stamp(self, day: date, hour: int) -> str:
        """A moment on ``day`` in Japan time, as text: cheaper than a datetime per row."""
        return f"{day.isoformat()} {hour:02d}:{int(self.rng.random() * 60):02d}:00+09"

    def _at(self, day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, clock(hour, int(self.rng.random() * 60)), tzinfo=JST)

    def _between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start if span <= 0 else start + timedelta(days=int(self.rng.random() * (span + 1)))

    def _name(self, gender: str) -> tuple[str, str]:
        rng = self.rng
        surname, surname_kana = pick(rng, SURNAMES)
        given, given_kana = pick(rng, MALE_GIVEN if gender == "male" else FEMALE_GIVEN)
        return f"{surname} {given}", f"{surname_kana} {given_kana}"

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:7.1f} s"

    def _flush(self, keys: list[str]) -> None:
        self.writer.put([(self.tables[key], self.tables[key].take()) for key in keys])

    # --- Run --------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(
                    sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(
                        sql.Identifier(table.name)
                    )
                )
                table.last_id = table.first_id = cursor.fetchone()[0]
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            bulk_checks = cursor.fetchone()[0]
            if bulk_checks:
                # A foreign key checked by its trigger costs more than the row itself: skip the
                # triggers for this transaction only and check every key of every new row in
                # one anti-join per key before committing (_check_foreign_keys). CHECK, UNIQUE
                # and NOT NULL constraints are enforced by COPY as always.
                cursor.execute("SET LOCAL session_replication_role = replica")
            else:
                # Checked as each COPY ends rather than all at once at the commit.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            dropped = self._drop_indexes(cursor)
            connection.ensure_connection()
            self.writer = Writer(connection.connection)
            self.writer.start()
            try:
                self._roster()
                self._clients()
            finally:
                self.writer.close()
            self._consultation_staff(cursor)
            self._restore_indexes(cursor, dropped)
            if bulk_checks:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                self._check_foreign_keys(cursor)
            else:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in self.tables.values():
                if table.count:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table.name, table.last_id],
                    )
        self.progress(f"{self._elapsed()}  committed; analysing")
        with connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.name)))
        self.progress(f"{self._elapsed()}  done")
        return {
            "counts": {t.name: t.count for t in self.tables.values()},
            "large": self.large,
            "admin": self.admin_username,
            "sample": self.sample,
        }

    def _drop_indexes(self, cursor) -> list[tuple[str, str]]:
        """Drop the secondary indexes and unique constraints of the client tables, which are
        empty (the command refuses otherwise), to build each once at the end from sorted data
        instead of updating it row by row: several times faster. Returned as the statements
        that restore them, run in this same transaction (``_restore_indexes``), so the
        database never commits without them and a duplicate still fails the whole run."""
        restore: list[tuple[str, str]] = []
        for key in CLIENT_TABLES:
            table = self.tables[key]
            if table.first_id:
                continue
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u' ORDER BY conname",
                [table.name],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT x.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
                "ORDER BY i.relname",
                [table.name],
            )
            indexes = cursor.fetchall()
            for name, definition in constraints:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                        sql.Identifier(table.name), sql.Identifier(name)
                    )
                )
                restore.append((table.name, f"ADD CONSTRAINT {name} {definition}"))
            for name, definition in indexes:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
                restore.append((table.name, definition))
        return restore

    def _restore_indexes(self, cursor, restore: list[tuple[str, str]]) -> None:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, statement in restore:
            if statement.startswith("ADD CONSTRAINT"):
                cursor.execute(
                    sql.SQL("ALTER TABLE {} ").format(sql.Identifier(table)).as_string(cursor)
                    + statement
                )
            else:
                cursor.execute(statement)
        self.progress(f"{self._elapsed()}  {len(restore)} indexes and unique constraints built")

    def _consultation_staff(self, cursor) -> None:
        """Who took part in each consultation: its author, written by the database itself."""
        staff = self.tables["staff"]
        user = _through(Consultation, "staff")._meta.get_field("user").column
        consultation = _through(Consultation, "staff")._meta.get_field("consultation").column
        consultations = self.tables["consultation"]
        author = Consultation._meta.get_field("created_by").column
        cursor.execute(
            sql.SQL(
                "INSERT INTO {staff} (id, {consultation}, {user}) "
                "SELECT %s + row_number() OVER (ORDER BY id), id, {author} FROM {consultations} "
                "WHERE id > %s ORDER BY id"
            ).format(
                staff=sql.Identifier(staff.name),
                consultation=sql.Identifier(consultation),
                user=sql.Identifier(user),
                author=sql.Identifier(author),
                consultations=sql.Identifier(consultations.name),
            ),
            [staff.first_id, consultations.first_id],
        )
        staff.count = cursor.rowcount
        staff.last_id = staff.first_id + staff.count
        self.progress(f"{self._elapsed()}  consultation staff {staff.count:,}")

    def _check_foreign_keys(self, cursor) -> None:
        """Every foreign key of every row written points at a row: one anti-join per key."""
        for table in self.tables.values():
            if not table.count:
                continue
            for column, parent, parent_column in table.foreign_keys():
                query = sql.SQL(
                    "SELECT count(*) FROM {t} c WHERE c.id > %s AND c.{c} IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM {p} p WHERE p.{pc} = c.{c})"
                ).format(
                    t=sql.Identifier(table.name),
                    c=sql.Identifier(column),
                    p=sql.Identifier(parent),
                    pc=sql.Identifier(parent_column),
                )
                cursor.execute(query, [table.first_id])
                broken = cursor.fetchone()[0]
                if broken:
                    raise RuntimeError(f"{table.name}.{column}: {broken} rows point at nothing")
        self.progress(f"{self._elapsed()}  every foreign key checked")

    # --- Roster -----------------------------------------------------------------------------

    def _roster(self) -> None:
        rng = self.rng
        municipalities = list(Municipality.objects.order_by("code"))
        if not municipalities:
            raise RuntimeError("The municipality list is missing: run migrate first.")
        by_kind: dict[str, list[Municipality]] = {}
        for m in municipalities:
            by_kind.setdefault(m.kind, []).append(m)
        self.prefectures = {m.id: m for m in by_kind[MunicipalityKind.PREFECTURE]}
        cities = [m for m in municipalities if m.kind in CITIES]
        everywhere = [m for m in municipalities if m.kind != MunicipalityKind.PREFECTURE]

        designated = by_kind.get(MunicipalityKind.DESIGNATED_CITY) or cities
        large_city = designated[0]
        plan: list[tuple[str, str, str, Municipality]] = []
        rest = self.target_agencies - 1
        counts = {kind: int(rest * share) for kind, share, _n, _k in KINDS}
        for kind in (K.HIKIKOMORI_CENTER, K.HIKIKOMORI_STATION):
            counts[kind] = max(counts[kind], 1 if rest >= 4 else 0)
        counts[K.SELF_RELIANCE] += rest - sum(counts.values())
        for kind, _share, suffix, suffix_kana in KINDS:
            kinds = SITES.get(kind)
            pool = [m for m in municipalities if m.kind in kinds] if kinds else None
            pool = pool or (cities if kind not in HIKIKOMORI else everywhere)
            plan.extend((kind, suffix, suffix_kana, pick(rng, pool)) for _ in range(counts[kind]))

        self.agencies: list[AgencyInfo] = []
        names: set[str] = set()
        self.large = self._agency(
            K.SELF_RELIANCE,
            "生活自立相談センター",
            "セイカツジリツソウダンセンター",
            large_city,
            names,
        )
        for kind, suffix, suffix_kana, municipality in plan:
            self._agency(kind, suffix, suffix_kana, municipality, names)

        password = make_password(self.password)
        self._staff(password)
        self._flush(["agency", "function", "area", "user", "membership", "supporter"])
        self.receivers = [a for a in self.agencies if a.receives]
        self.receivers_by_prefecture: dict[int, list[AgencyInfo]] = {}
        for agency in self.receivers:
            self.receivers_by_prefecture.setdefault(agency.prefecture_id, []).append(agency)
        self.progress(
            f"{self._elapsed()}  roster: {len(self.agencies):,} agencies, "
            f"{self.tables['user'].count:,} users, {self.tables['membership'].count:,} memberships"
        )

    def _agency(
        self, kind: str, suffix: str, suffix_kana: str, municipality: Municipality, names: set
    ) -> AgencyInfo:
        rng = self.rng
        base = municipality.name
        name, kana = f"{base}{suffix}", f"{municipality.name_kana}{suffix_kana}"
        if kind == K.NPO:
            name = f"NPO法人 {name}"
        number = 2
        while name in names:
            name = f"{base}{suffix}（第{number}）"
            number += 1
        names.add(name)
        contracted = kind in HOLDERS and rng.random() < 0.6
        agency_id = self.tables["agency"].next_id()
        public_id = self._uuid()
        created = self._at(self.today - timedelta(days=YEARS * 366 + 30))
        receives = kind not in NO_REFERRALS
        self.tables["agency"].rows.append((
            agency_id, public_id, name, kana, kind, municipality.id,
            Operation.CONTRACTED if contracted else Operation.DIRECT,
            f"社会福祉法人 {base}社会福祉協議会" if contracted else "",
            f"{randint(rng, 0, 999):03d}-{randint(rng, 0, 9999):04d}",
            f"{base}{randint(rng, 1, 9)}丁目{randint(rng, 1, 30)}-{randint(rng, 1, 20)}",
            f"0{randint(rng, 11, 99)}-{randint(rng, 100, 999)}-{randint(rng, 1000, 9999)}",
            "", "平日 8:30〜17:15", "", receives, 365, 3, 3, 30, 60, 10, 7, 14, 3, True,
            created.date(), search_key(name, kana), created, created,
        ))  # fmt: skip
        for function in FUNCTIONS.get(kind, []):
            self.tables["function"].rows.append(
                (self.tables["function"].next_id(), agency_id, function)
            )
        self.tables["area"].rows.append((self.tables["area"].next_id(), agency_id, municipality.id))
        prefecture_id = municipality.prefecture_id or municipality.id
        info = AgencyInfo(agency_id, public_id, name, kind, municipality, prefecture_id, receives)
        self.agencies.append(info)
        return info

    def _staff(self, password: str) -> None:
        rng = self.rng
        users, memberships = self.tables["user"], self.tables["membership"]
        joined = self._at(self.today - timedelta(days=YEARS * 366))

        def add(agency: AgencyInfo | None, username: str, role: str, admin: bool = False) -> None:
            gender = "male" if rng.random() < 0.45 else "female"
            full_name, kana = self._name(gender)
            user_id = users.next_id()
            users.rows.append((
                user_id, password, False, username, f"{username}@example.jp", False, True,
                joined, full_name, kana, agency is None, 0,
            ))  # fmt: skip
            if agency is None:
                return
            membership_id = memberships.next_id()
            memberships.rows.append(
                (membership_id, self._uuid(), user_id, agency.id, role, admin, True, joined)
            )
            if role == Role.SUPPORTER:
                profiles = self.tables["supporter"]
                profiles.rows.append((profiles.next_id(), membership_id, rng.random() < 0.2))
            agency.staff.append(Staff(user_id, membership_id, role, username))

        self.admin_username = "scale_admin"
        add(None, self.admin_username, "")
        for role, count in LARGE_STAFF.items():
            for number in range(count):
                username = f"scale_{role}" if number == 0 else f"l{number:02d}_{role}"
                add(self.large, username, role, admin=role == Role.SUPERVISOR and number == 0)
        for index, agency in enumerate(self.agencies[1:], start=1):
            prefix = f"a{index:04d}"
            add(agency, f"{prefix}_s", Role.SUPERVISOR, admin=True)
            add(agency, f"{prefix}_c1", Role.CASEWORKER)
            add(agency, f"{prefix}_c2", Role.CASEWORKER)
            if agency.kind in HIKIKOMORI:
                add(agency, f"{prefix}_p", Role.SUPPORTER)
            else:
                add(agency, f"{prefix}_o", Role.ADMINISTRATIVE)

    # --- Clients ----------------------------------------------------------------------------

    def _client_counts(self) -> list[tuple[AgencyInfo, int]]:
        """Clients per holding agency: the large one a fixed share, the rest by kind and luck."""
        rng = self.rng
        n = self.target_clients
        # Referrals accepted with information create the recipient's own record: about one in
        # twelve originals, and they count towards the total.
        originals = round(n / 1.085)
        large = min(originals, max(round(originals * 0.02), min(60, originals // 5)))
        holders = [a for a in self.agencies[1:] if a.kind in HOLDERS]
        weights = [CLIENT_WEIGHT[a.kind] * rng.uniform(0.3, 1.7) for a in holders]
        total = sum(weights) or 1
        remaining = originals - large
        shares = [remaining * w / total for w in weights]
        counts = [int(s) for s in shares]
        by_remainder = sorted(
            range(len(holders)), key=lambda i: shares[i] - counts[i], reverse=True
        )
        for i in by_remainder[: remaining - sum(counts)]:
            counts[i] += 1
        return [(self.large, large), *zip(holders, counts, strict=True)]

    def _clients(self) -> None:
        plan = self._client_counts()
        self.need_sample_referral = True
        buffered = 0
        for agency, count in plan:
            self._agency_clients(agency, count)
            buffered += count
            if buffered >= CHUNK:
                self._write_chunk()
                buffered = 0
        self._write_chunk()

    def _write_chunk(self) -> None:
        self._flush([key for key in CLIENT_TABLES if key != "staff"])
        t = self.tables
        self.progress(
            f"{self._elapsed()}  clients {t['client'].count:,}, consultations "
            f"{t['consultation'].count:,}, referrals {t['referral'].count:,}, "
            f"access log {t['access'].count:,}"
        )

    def _agency_clients(self, agency: AgencyInfo, count: int) -> None:
        rng = self.rng
        workers = agency.workers
        if not count or not workers:
            return
        span = YEARS * 365
        # Newest first: the recent cases are the open ones, as many as the staff can carry.
        opened = sorted(
            (self.today - timedelta(days=int(rng.random() ** 1.6 * span)) for _ in range(count)),
            reverse=True,
        )
        open_count = min(round(count * 0.8), CASELOAD * len(workers))
        caseworkers = agency.caseworkers or workers
        for index, opened_on in enumerate(opened):
            is_open = index < open_count
            if rng.random() < 0.1:
                worker = pick(rng, agency.supervisors or workers)
            else:
                worker = caseworkers[index % len(caseworkers)]
            sample = agency is self.large and index == 0
            if sample:
                worker = caseworkers[0]
                opened_on = self.today - timedelta(days=3 * 365)
            self._client(agency, worker, opened_on, is_open, sample)

    def _client(
        self, agency: AgencyInfo, worker: Staff, opened_on: date, is_open: bool, sample: bool
    ) -> None:
        rng, t, today = self.rng, self.tables, self.today
        hikikomori = agency.kind in HIKIKOMORI or rng.random() < 0.25
        roll = rng.random()
        gender = "male" if roll < (0.65 if hikikomori else 0.55) else "female"
        if roll > 0.99:
            gender = "no_answer"
        group = rng.random()
        if sample or group < 0.2:
            age, kind = randint(rng, 45, 59), "8050"
        elif group < 0.6:
            age, kind = randint(rng, 16, 39), "young"
        elif group < 0.88:
            age, kind = randint(rng, 40, 64), "middle"
        else:
            age, kind = randint(rng, 65, 85), "older"
        birth = today - timedelta(days=age * 365 + int(age / 4) + int(rng.random() * 364))
        full_name, kana = self._name("male" if gender == "no_answer" else gender)
        surname = full_name.split()[0]
        name_key, kana_key = _keys(full_name, kana)
        place = agency.municipality
        prefecture = self.prefectures.get(place.prefecture_id)
        address = (
            f"{prefecture.name if prefecture else ''}{place.name}"
            f"{randint(rng, 1, 9)}丁目{randint(rng, 1, 30)}-{randint(rng, 1, 20)}"
        )
        postal = f"{randint(rng, 0, 999):03d}-{randint(rng, 0, 9999):04d}"
        created = self._stamp(opened_on, 9)

        household_id = t["household"].next_id()
        t["household"].rows.append(
            (household_id, self._uuid(), agency.id, postal, address, "", created)
        )
        client_id = t["client"].next_id()
        public_id = self._uuid()
        client_row = [
            client_id, public_id, agency.id, household_id, full_name, kana, birth, gender, postal,
            address, f"090-{randint(rng, 1000, 9999)}-{randint(rng, 1000, 9999)}", "",
            "", _json_list(tuple(rng.sample(PREFERENCES, randint(rng, 0, 2)))),
            "", pick(rng, WISHES) if rng.random() < 0.5 else "", None, name_key, kana_key,
            worker.user_id, created, created,
        ]  # fmt: skip
        t["client"].rows.append(client_row)  # first contact filled in below
        family = self._household(household_id, client_id, full_name, surname, birth, kind)

        _case_id, stage, last_contact, first_contact = self._case(
            agency, client_id, worker, opened_on, is_open, hikikomori, family, sample
        )
        client_row[16] = first_contact
        t["client"].rows[-1] = tuple(client_row)
        if sample:
            self.sample.client_public_id = str(public_id)
            self.sample.client_kana = kana
        if agency.supporters and hikikomori and rng.random() < 0.25:
            self._visits(agency, client_id, worker, opened_on, stage, last_contact)
        if rng.random() < 1 / 7:
            self._referral(agency, worker, client_row, opened_on, is_open, last_contact)
        if rng.random() < 0.1:
            self._denied_look(agency, client_id, public_id, opened_on)

    def _household(
        self,
        household_id: int,
        client_id: int,
        full_name: str,
        surname: str,
        birth: date,
        kind: str,
    ) -> list[int]:
        """The client as the first member, then the family their age makes likely (1–5)."""
        rng, members = self.rng, self.tables["member"]
        members.rows.append(
            (members.next_id(), household_id, client_id, full_name, Relationship.SELF,
             birth.year, True, False, "")
        )  # fmt: skip
        others: list[tuple[str, int, bool]] = []
        if kind == "8050":
            others.append((Relationship.MOTHER, birth.year - randint(rng, 25, 32), False))
            if rng.random() < 0.35:
                others.append((Relationship.FATHER, birth.year - randint(rng, 27, 35), False))
            if rng.random() < 0.2:
                others.append((Relationship.SIBLING, birth.year + randint(rng, -5, 5), False))
        elif kind == "young":
            if rng.random() < 0.9:
                others.append((Relationship.MOTHER, birth.year - randint(rng, 22, 35), False))
            if rng.random() < 0.75:
                others.append((Relationship.FATHER, birth.year - randint(rng, 24, 37), False))
            if rng.random() < 0.35:
                others.append(
                    (Relationship.SIBLING, birth.year + randint(rng, -6, 6), rng.random() < 0.1)
                )
            if rng.random() < 0.1:
                others.append((Relationship.GRANDPARENT, birth.year - randint(rng, 50, 60), False))
        else:
            if rng.random() < 0.35:
                others.append((Relationship.SPOUSE, birth.year + randint(rng, -5, 5), False))
            if kind == "middle" and rng.random() < 0.25:
                others.append((Relationship.CHILD, birth.year + randint(rng, 22, 35), False))
        ids = []
        for relationship, year, withdrawn in others[:4]:
            gender = "male" if relationship in (Relationship.FATHER,) else "female"
            if relationship in (Relationship.SIBLING, Relationship.CHILD):
                gender = pick(rng, ["male", "female"])
            given = pick(rng, MALE_GIVEN if gender == "male" else FEMALE_GIVEN)[0]
            member_id = members.next_id()
            members.rows.append(
                (member_id, household_id, None, f"{surname} {given}", relationship, year,
                 rng.random() < 0.9, withdrawn, "")
            )  # fmt: skip
            ids.append(member_id)
        return ids

    def _case(
        self,
        agency: AgencyInfo,
        client_id: int,
        worker: Staff,
        opened_on: date,
        is_open: bool,
        hikikomori: bool,
        family: list[int],
        sample: bool,
    ) -> tuple[int, str, date, date | None]:
        rng, t, today = self.rng, self.tables, self.today
        if is_open:
            stage = Stage.SUPPORT if sample else pick(rng, OPEN_STAGES)
            closed_on = None
            end = today
        else:
            stage = Stage.CLOSED
            closed_on = min(opened_on + timedelta(days=randint(rng, 30, 700)), today - timedelta(1))
            closed_on = max(closed_on, opened_on)
            end = closed_on
        support_type = rng.choices(SUPPORTTYPE_VALUES, [45, 40, 15])[0]
        case_id = t["case"].next_id()
        case_public_id = self._uuid()

        # Consultations: dates between the opening and the end, the last of an open case recent.
        count = SAMPLE_CONSULTATIONS if sample else 1 + int(rng.random() * 12)
        last = end
        if is_open:
            last = max(opened_on, today - timedelta(days=int(rng.random() * 31)))
        dates = sorted(self._between(opened_on, last) for _ in range(count - 1))
        dates.append(last)
        next_contact = None
        first_contact = None
        consultations = t["consultation"]
        co_worker = pick(rng, agency.workers)
        for position, day in enumerate(dates):
            is_last = position == len(dates) - 1
            with_client = rng.random() < 0.78 or not family
            if with_client:
                summary = pick(rng, SUMMARIES_WITH_CLIENT)
                method = pick(rng, METHODS_WITH_CLIENT)
                if first_contact is None:
                    first_contact = day
            else:
                summary = pick(rng, SUMMARIES_FAMILY)
                method = pick(rng, METHODS_FAMILY)
            if is_last:
                next_on = day + timedelta(days=randint(rng, 10, 40)) if is_open else None
                next_contact = next_on
            else:
                next_on = dates[position + 1]
            by = worker if rng.random() < 0.9 else co_worker
            at = self._stamp(day, 9 + int(rng.random() * 8))
            consultation_id = consultations.next_id()
            consultations.rows.append((
                consultation_id, self._uuid(), case_id, day,
                clock(9 + int(rng.random() * 8), 0 if rng.random() < 0.5 else 30),
                pick(rng, (15, 30, 30, 45, 60, 90)), method, with_client,
                None if with_client else pick(rng, family), summary,
                pick(rng, NOTES) if rng.random() < 0.4 else "", next_on, "[]", by.user_id, at, at,
            ))  # fmt: skip

        duration = pick(rng, WITHDRAWALDURATION_VALUES) if hikikomori else ""
        closing = rng.sample(CLOSING_OUTCOMES, randint(rng, 1, 2)) if closed_on else []
        created = self._stamp(opened_on, 9)
        updated = self._stamp(dates[-1], 17)
        t["case"].rows.append((
            case_id, case_public_id, client_id, agency.id, opened_on,
            pick(rng, CASEORIGIN_VALUES), support_type, stage, worker.user_id, duration,
            _json_list((pick(rng, WITHDRAWALTRIGGER_VALUES),) if duration else ()),
            pick(rng, GOINGOUT_VALUES) if duration else "", closed_on, _json_list(tuple(closing)),
            "支援終結。" if closed_on else "", dates[-1], next_contact, created, updated,
        ))  # fmt: skip

        topics = [Topic.HIKIKOMORI] if hikikomori else []
        topics += rng.sample(TOPICS, randint(rng, 1, 2) if hikikomori else randint(rng, 1, 3))
        for position, topic in enumerate(topics):
            t["topic"].rows.append((t["topic"].next_id(), case_id, topic, position == 0))

        self._moves(case_id, worker, opened_on, stage, dates, closed_on)
        if support_type == SupportType.PLAN and stage not in (Stage.INTAKE, Stage.ASSESSMENT):
            self._plan(agency, case_id, worker, opened_on, stage, dates[-1])
        if is_open and next_contact is not None:
            self._contact_reminder(agency, case_public_id, worker, next_contact)
        return case_id, stage, dates[-1], first_contact

    def _moves(
        self,
        case_id: int,
        worker: Staff,
        opened_on: date,
        stage: str,
        dates: list[date],
        closed_on: date | None,
    ) -> None:
        moves = self.tables["move"]
        path = [Stage.INTAKE]
        if stage == Stage.SUSPENDED:
            path += [Stage.ASSESSMENT, Stage.SUPPORT, Stage.SUSPENDED]
        elif stage == Stage.CLOSED:
            path += [Stage.ASSESSMENT, Stage.PLANNING, Stage.SUPPORT, Stage.CLOSED]
        else:
            path += STAGE_ORDER[1 : STAGE_ORDER.index(stage) + 1]
        day = opened_on
        previous = ""
        for position, to_stage in enumerate(path):
            if to_stage == Stage.CLOSED:
                day = closed_on
            elif position:
                day = min(day + timedelta(days=randint(self.rng, 7, 60)), dates[-1])
            moves.rows.append((
                moves.next_id(), case_id, previous, to_stage, day, self._stamp(day, 17),
                worker.user_id, "" if not position else "支援の段階が進んだため",
            ))  # fmt: skip
            previous = to_stage

    def _plan(
        self,
        agency: AgencyInfo,
        case_id: int,
        worker: Staff,
        opened_on: date,
        stage: str,
        last: date,
    ) -> None:
        rng, t = self.rng, self.tables
        agreed = stage != Stage.PLANNING
        agreed_on = self._between(opened_on + timedelta(days=20), last) if agreed else None
        if agreed_on is not None and agreed_on > self.today:
            agreed_on = self.today
        created = self._stamp(agreed_on or last, 14)
        plan_id = t["plan"].next_id()
        t["plan"].rows.append((
            plan_id, self._uuid(), case_id, 1,
            PlanStatus.AGREED if agreed else PlanStatus.DRAFT, pick(rng, WISHES),
            (agreed_on or self.today) + timedelta(days=pick(rng, (90, 180))), agreed_on,
            "signed" if agreed else "", "", worker.user_id, created, created,
        ))  # fmt: skip
        for position in range(randint(rng, 1, 2)):
            goal_id = t["goal"].next_id()
            t["goal"].rows.append((goal_id, plan_id, position, pick(rng, GOALS)))
            what, program = pick(rng, ITEMS)
            t["item"].rows.append((
                t["item"].next_id(), plan_id, goal_id, position, what, agency.id, program,
                "週1回", "",
            ))  # fmt: skip

    def _contact_reminder(
        self, agency: AgencyInfo, case_public_id: str, worker: Staff, next_contact: date
    ) -> None:
        """What the sweep would have left: overdue and due planned contacts, mostly sent."""
        today = self.today
        if next_contact <= today - timedelta(days=3):
            kind, due_on = Kind.NEXT_CONTACT_OVERDUE, next_contact + timedelta(days=3)
        elif next_contact <= today:
            kind, due_on = Kind.NEXT_CONTACT_DUE, next_contact
        else:
            return
        self._reminder(
            kind, agency.id, TargetType.CASE, str(case_public_id), worker.user_id, due_on
        )

    def _reminder(
        self,
        kind: str,
        agency_id: int,
        target_type: str,
        target_id: str,
        user_id: int,
        due_on: date,
    ) -> None:
        rng, reminders = self.rng, self.tables["reminder"]
        created = datetime.combine(due_on, clock(6, 0), tzinfo=JST)
        sent = created + timedelta(minutes=2) if due_on < self.today else None
        read = sent + timedelta(hours=randint(rng, 1, 30)) if sent and rng.random() < 0.5 else None
        if read and read > self.now:
            read = None
        reminders.rows.append((
            reminders.next_id(), self._uuid(), kind, agency_id, target_type, target_id, user_id,
            due_on, created, created, sent, read, "", 1 if sent else 0,
        ))  # fmt: skip

    def _visits(
        self,
        agency: AgencyInfo,
        client_id: int,
        worker: Staff,
        opened_on: date,
        stage: str,
        last: date,
    ) -> None:
        rng, t = self.rng, self.tables
        supporter = pick(rng, agency.supporters)
        assigned_on = self._between(opened_on, min(opened_on + timedelta(days=60), last))
        ended_on = last if stage == Stage.CLOSED else None
        t["assignment"].rows.append((
            t["assignment"].next_id(), client_id, supporter.membership_id,
            "母に先に声をかける", worker.user_id, assigned_on, ended_on,
        ))  # fmt: skip
        end = ended_on or self.today
        for day in sorted(self._between(assigned_on, end) for _ in range(randint(rng, 2, 8))):
            outcome = rng.choices(VISITOUTCOME_VALUES, [30, 30, 20, 20])[0]
            urgent = rng.random() < 0.02
            at = self._at(day, 15)
            acknowledged = day < self.today - timedelta(days=2) if urgent else False
            t["visit"].rows.append((
                t["visit"].next_id(), self._uuid(), client_id, supporter.user_id, day, outcome,
                pick(rng, HEARD), urgent, "母が体調を崩して入院したとのこと" if urgent else "",
                worker.user_id if acknowledged else None,
                at + timedelta(days=1) if acknowledged else None, at,
            ))  # fmt: skip

    # --- Referrals and what they leave --------------------------------------------------------

    def _recipient(self, agency: AgencyInfo) -> AgencyInfo | None:
        rng = self.rng
        if agency is not self.large and self.large.receives and rng.random() < 0.15:
            return self.large
        near = self.receivers_by_prefecture.get(agency.prefecture_id, [])
        pool = near if near and rng.random() < 0.7 else self.receivers
        for _ in range(5):
            choice = pick(rng, pool)
            if choice is not agency:
                return choice
        return None

    def _referral(
        self,
        agency: AgencyInfo,
        worker: Staff,
        client_row: list,
        opened_on: date,
        is_open: bool,
        last: date,
    ) -> None:
        rng, t, today = self.rng, self.tables, self.today
        forced = self.need_sample_referral and agency is not self.large and is_open
        to = self.large if forced else self._recipient(agency)
        if to is None or not to.workers:
            return
        kind = (
            ReferralType.TSUNAGI
            if forced
            else rng.choices(
                [ReferralType.TSUNAGI, ReferralType.JOINT, ReferralType.INTRODUCTION], [65, 15, 20]
            )[0]
        )
        statuses, weights, done, done_weight = STATUS_WEIGHTS[kind]
        status = (
            Status.SENT if forced else rng.choices([*statuses, done], [*weights, done_weight])[0]
        )
        if status in (Status.SENT, Status.DRAFT) and not is_open:
            status = done
        if status in (Status.SENT, Status.DRAFT):
            sent_on = max(opened_on, today - timedelta(days=int(rng.random() * 20)))
        else:
            sent_on = self._between(opened_on, last)
        client_id = client_row[0]
        categories = [DataCategory.BASIC] if kind != ReferralType.INTRODUCTION else []
        if categories:
            categories += rng.sample(CATEGORIES[1:], randint(rng, 0, 3))
        sent_at = None if status == Status.DRAFT else self._at(sent_on, 11)
        created = self._at(sent_on, 10)
        supervisor = pick(rng, to.supervisors or to.workers)
        answered = status in (Status.ACCEPTED, Status.DECLINED, Status.IN_SUPPORT, Status.COMPLETED)
        answered_at = sent_at + timedelta(days=randint(rng, 0, 4), hours=2) if answered else None
        if answered_at and answered_at > self.now:
            answered_at = self.now
        assignee = pick(rng, to.caseworkers or to.workers) if status in RECEIVED else None
        first_contact_on = None
        if status in (Status.COMPLETED, Status.IN_SUPPORT):
            first_contact_on = min(answered_at.date() + timedelta(days=randint(rng, 1, 20)), today)

        consent_public_id = None
        if kind in NEEDS_CONSENT:
            consent_public_id = self._uuid()
            obtained_on = sent_on - timedelta(days=randint(rng, 0, 10))
            t["consent"].rows.append((
                t["consent"].next_id(), consent_public_id, client_id, to.id,
                Purpose.JOINT_SUPPORT if kind == ReferralType.JOINT else Purpose.REFERRAL,
                _json(categories), pick(rng, CONSENTMETHOD_VALUES), "", GivenBy.CLIENT, "",
                worker.user_id, obtained_on, obtained_on + timedelta(days=365), "",
                self._at(obtained_on, 10),
            ))  # fmt: skip

        snapshot: dict[str, Any] = {}
        receiving_id = None
        referral_id = t["referral"].next_id()
        referral_public_id = self._uuid()
        if kind in NEEDS_CONSENT and sent_at is not None:
            snapshot["basic"] = {
                "full_name": client_row[4],
                "full_name_kana": client_row[5],
                "birth_date": client_row[6].isoformat(),
                "gender": client_row[7],
                "postal_code": client_row[8],
                "address": client_row[9],
                "phone": client_row[10],
                "email": "",
                "contact_preferences": json.loads(client_row[13]),
                "contact_note": "",
            }
            if status in RECEIVED:
                receiving_id = self._receiving_client(
                    to, assignee, client_row, answered_at, first_contact_on
                )
        wishes = pick(rng, WISHES)
        completed_at = (
            self._at(first_contact_on or answered_at.date(), 16)
            if status == Status.COMPLETED
            else None
        )
        t["referral"].rows.append((
            referral_id, referral_public_id, kind, agency.id, worker.user_id, to.id, client_id,
            pick(rng, REASONS), wishes, rng.choices(["normal", "soon", "urgent"], [80, 15, 5])[0],
            _json(categories), "", status, sent_at, answered_at,
            supervisor.user_id if answered else None,
            "現在、新規の受け入れを停止しているため" if status == Status.DECLINED else "",
            assignee.user_id if assignee else None, receiving_id, _json(snapshot),
            first_contact_on, completed_at, created, answered_at or sent_at or created,
        ))  # fmt: skip
        if kind in NEEDS_CONSENT and sent_at is not None:
            t["provision"].rows.append((
                t["provision"].next_id(), referral_id, sent_at, agency.id, to.id, client_id,
                _json(categories), _json([str(consent_public_id)]), worker.user_id,
            ))  # fmt: skip
        if receiving_id is not None:
            t["confirmation"].rows.append((
                t["confirmation"].next_id(), referral_id, answered_at, to.id, agency.id,
                receiving_id, _json(categories),
                f"{agency.name}から本人の同意に基づき提供を受けた（{consent_public_id}）。",
                supervisor.user_id,
            ))  # fmt: skip
            self._shared_looks(agency, to, client_row, receiving_id, categories, answered_at)
        if status == Status.SENT:
            if to is self.large and self.need_sample_referral:
                self.sample.referral_public_id = str(referral_public_id)
                self.need_sample_referral = False
            if sent_on <= today - timedelta(days=3):
                self._reminder(
                    Kind.REFERRAL_UNANSWERED, to.id, TargetType.REFERRAL,
                    str(referral_public_id), supervisor.user_id, sent_on + timedelta(days=3),
                )  # fmt: skip

    def _receiving_client(
        self,
        to: AgencyInfo,
        worker: Staff,
        client_row: list,
        answered_at: datetime,
        first_contact_on: date | None,
    ) -> int:
        """The recipient's own record of the person, as ``referral_accept`` makes it."""
        t = self.tables
        client_id = t["client"].next_id()
        answered_on = min(answered_at.date(), self.today)
        t["client"].rows.append((
            client_id, self._uuid(), to.id, None, client_row[4], client_row[5], client_row[6],
            client_row[7], client_row[8], client_row[9], client_row[10], "", "", client_row[13],
            "", client_row[15], first_contact_on, client_row[17], client_row[18], worker.user_id,
            answered_at, answered_at,
        ))  # fmt: skip
        is_open = answered_on > self.today - timedelta(days=500)
        self._case(to, client_id, worker, answered_on, is_open, to.kind in HIKIKOMORI, [], False)
        return client_id

    def _shared_looks(
        self,
        sender: AgencyInfo,
        to: AgencyInfo,
        client_row: list,
        receiving_id: int,
        categories: list[str],
        answered_at: datetime,
    ) -> None:
        """The two agencies looking at each other's record through the consent, over months."""
        rng, access = self.rng, self.tables["access"]
        withheld = _json([c for c in CATEGORIES if c not in categories])
        shown = _json(categories)
        until = min(self.now, answered_at + timedelta(days=365))
        span = max(int((until - answered_at).total_seconds()), 1)
        path = f"/cases/clients/{client_row[1]}/shared/"
        for _ in range(randint(rng, 15, 50)):
            at = answered_at + timedelta(seconds=int(rng.random() * span))
            if rng.random() < 0.7:
                viewer, agency_id, client_id = pick(rng, to.workers), to.id, client_row[0]
            else:
                viewer, agency_id, client_id = pick(rng, sender.workers), sender.id, receiving_id
            access.rows.append((
                access.next_id(), at, viewer.user_id, agency_id, client_id, AccessOutcome.SHOWN,
                Basis.CONSENT, shown, withheld, "cases:shared_record", path,
            ))  # fmt: skip

    def _denied_look(
        self, agency: AgencyInfo, client_id: int, public_id: str, opened_on: date
    ) -> None:
        """Someone of another agency following an old link: refused, and logged."""
        other = pick(self.rng, self.agencies)
        if other is agency or not other.workers:
            return
        access = self.tables["access"]
        at = self._at(self._between(opened_on, self.today - timedelta(days=1)), 13)
        access.rows.append((
            access.next_id(), at, pick(self.rng, other.workers).user_id, other.id, client_id,
            AccessOutcome.DENIED, "", "[]", "[]", "cases:client", f"/cases/clients/{public_id}/",
        ))  # fmt: skip
