"""What passes between agencies: referrals with their consents, provision and confirmation
records and the recipient's own record, the access log, and the reminders left behind."""

import json
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any

from audit.models import AccessOutcome
from consent.gate import Basis
from consent.models import ConsentMethod, DataCategory, GivenBy, Purpose
from referrals.models import NEEDS_CONSENT, RECEIVED, ReferralType, Status
from reminders.models import Kind, TargetType

from .base import JST, AgencyInfo, Base, Staff, pick, randint
from .people import WISHES
from .roster import HIKIKOMORI

REASONS = [
    "就労準備支援の利用を希望しているため",
    "家計の立て直しについて専門的な支援が必要なため",
    "居場所の利用を本人が希望しているため",
    "転居に伴い、転居先での支援をお願いしたい",
    "医療的な支援が必要と思われるため",
]
CATEGORIES = list(DataCategory.values)
CONSENTMETHOD_VALUES = list(ConsentMethod.values)
# Referral statuses by type, in proportions a queue sees over years.
STATUS_WEIGHTS = {
    ReferralType.TSUNAGI: (
        [Status.DRAFT, Status.SENT, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN],
        [2, 8, 12, 6, 3],
        Status.COMPLETED,
        69,
    ),
    ReferralType.JOINT_SUPPORT: (
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


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Sharing(Base):
    """Referrals and what they leave, looks in the access log, reminders."""

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
                [ReferralType.TSUNAGI, ReferralType.JOINT_SUPPORT, ReferralType.INTRODUCTION],
                [65, 15, 20],
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
                Purpose.JOINT_SUPPORT if kind == ReferralType.JOINT_SUPPORT else Purpose.TSUNAGI,
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
        path = f"/referrals/partner-record/{client_row[1]}/"
        for _ in range(randint(rng, 15, 50)):
            at = answered_at + timedelta(seconds=int(rng.random() * span))
            looker, client_id = (
                (to, client_row[0]) if rng.random() < 0.7 else (sender, receiving_id)
            )
            access.rows.append((
                access.next_id(), at, pick(rng, looker.workers).user_id, looker.id, looker.name,
                client_id, AccessOutcome.SHOWN, Basis.CONSENT, shown, withheld,
                "referrals:shared_record", path,
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
            access.next_id(), at, pick(self.rng, other.workers).user_id, other.id, other.name,
            client_id, AccessOutcome.DENIED, "", "[]", "[]", "cases:client",
            f"/cases/clients/{public_id}/",
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
