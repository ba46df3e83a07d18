"""Clients and their households, shared out over the agencies that hold cases."""

from datetime import date, timedelta
from functools import cache

from agencies.models import AgencyKind as K
from cases.models import Relationship
from core.japanese import search_key
from demo.names import FEMALE_GIVEN, MALE_GIVEN

from .base import YEARS, AgencyInfo, Base, Staff, json_list, pick, randint
from .roster import HIKIKOMORI, HOLDERS
from .tables import CLIENT_TABLES

CASELOAD = 80  # open cases a caseworker carries at most
CHUNK = 10_000  # clients generated before their rows are written
# Clients per agency of each kind that holds cases, relative to a 自立相談支援機関.
CLIENT_WEIGHT = {
    K.SELF_RELIANCE: 1.0,
    K.HIKIKOMORI_CENTER: 0.8,
    K.HIKIKOMORI_STATION: 0.5,
    K.HIKIKOMORI_PROJECT: 0.3,
}

WISHES = [
    "自分のペースで働けるようになりたい",
    "人と話せる場所がほしい",
    "家族に迷惑をかけたくない",
    "生活を落ち着かせたい",
]
PREFERENCES = ["letter_only", "through_family", "no_phone", "visit_ok", "text_ok", "email_ok"]


@cache
def _keys(name: str, kana: str) -> tuple[str, str]:
    return search_key(name), search_key(kana)


class People(Base):
    """Each client comes with a household, then (``Casework``) a case and (``Sharing``) perhaps
    a referral and looks from other agencies, all drawn in this order from the one generator."""

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
            "", json_list(tuple(rng.sample(PREFERENCES, randint(rng, 0, 2)))),
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
