"""What every part of the generator shares: its state, the seeded helpers and the agency
records the roster leaves for the clients."""

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from agencies.models import Municipality, Role
from demo.names import FEMALE_GIVEN, MALE_GIVEN, SURNAMES

from .tables import tables

JST = ZoneInfo("Asia/Tokyo")
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
YEARS = 6  # cases were opened over this many years


@cache
def json_list(values: tuple) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def pick(rng: random.Random, seq: list | tuple) -> Any:
    """``rng.choice`` without its overhead (millions of calls)."""
    return seq[int(rng.random() * len(seq))]


def randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


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


class Base:
    """The state and seeded helpers every part of the generator shares. The generator is this
    and one part per subject (``Roster``, ``People``, ``Casework``, ``Sharing``), put together
    as ``seeder.ScaleSeeder``; a part reaches another's rows through ``self``, as one class."""

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
        self.tables = tables()

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
