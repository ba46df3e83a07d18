"""Agencies on real municipalities, their staff, memberships and supporter profiles."""

from datetime import timedelta

from django.contrib.auth.hashers import make_password

from agencies.models import AgencyFunction as F
from agencies.models import AgencyKind as K
from agencies.models import Municipality, MunicipalityKind, Operation, Role
from core.japanese import search_key

from .base import YEARS, AgencyInfo, Base, Staff, pick, randint

LARGE_STAFF = {Role.SUPERVISOR: 4, Role.CASEWORKER: 30, Role.SUPPORTER: 4, Role.ADMINISTRATIVE: 2}

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


class Roster(Base):
    """The agencies (the large one first), then their staff, written before any client."""

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
