"""Each client's case: stage moves, consultations (and who took part), plans, supporters' visits."""

from datetime import date, timedelta
from datetime import time as clock

from psycopg import sql

from cases.models import (
    STAGE_ORDER,
    CaseOrigin,
    Consultation,
    GoingOut,
    Method,
    Outcome,
    PlanStatus,
    Program,
    Stage,
    SupportType,
    Topic,
    VisitOutcome,
    WithdrawalDuration,
    WithdrawalTrigger,
)

from .base import AgencyInfo, Base, Staff, json_list, pick, randint
from .people import WISHES
from .tables import through

SAMPLE_CONSULTATIONS = 80

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
SUPPORTTYPE_VALUES = list(SupportType.values)
CASEORIGIN_VALUES = list(CaseOrigin.values)
WITHDRAWALDURATION_VALUES = list(WithdrawalDuration.values)
WITHDRAWALTRIGGER_VALUES = list(WithdrawalTrigger.values)
GOINGOUT_VALUES = list(GoingOut.values)
VISITOUTCOME_VALUES = list(VisitOutcome.values)
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


class Casework(Base):
    """A case with its consultations, stage moves and plan; supporters' home visits."""

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
            json_list((pick(rng, WITHDRAWALTRIGGER_VALUES),) if duration else ()),
            pick(rng, GOINGOUT_VALUES) if duration else "", closed_on, json_list(tuple(closing)),
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

    def _consultation_staff(self, cursor) -> None:
        """Who took part in each consultation: its author, written by the database itself."""
        staff = self.tables["staff"]
        user = through(Consultation, "staff")._meta.get_field("user").column
        consultation = through(Consultation, "staff")._meta.get_field("consultation").column
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
