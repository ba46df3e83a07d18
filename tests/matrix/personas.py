"""The agencies, the personas and the oracle of the URL matrices.

- H (自立相談支援機関) holds five clients, one per consent state (``STATES``); each carries
  sentinel strings per category, written *after* the referrals were sent, so what crossed with
  them (the recipients' own records) holds none of them;
- L got an accepted つなぎ from H and J an accepted 共同支援, for every client;
- C sits with H on a 支援会議 (H its secretariat) whose session (sharing today) has every client
  on its agenda with 基本情報 and 世帯の状況;
- U is unrelated; P (no staff) only receives a consent and an emergency disclosure per client.

The five states, of the consents to L and J: none (no consent row); some (valid, 基本情報 and
相談内容); withdrawn and expired (all categories, withdrawn through the service or run out
yesterday); emergency (no consent, and an active emergency disclosure of 基本情報 and 心身の状況
to L, J, C and U).

Each agency has a caseworker, a supervisor, a supporter and a roster admin (administrative
staff); H also has a caseworker who is a roster admin and a supporter dispatched to every
client. Then a system admin and no login. ``oracle`` says what each persona may see of each
client through the gate; it is written from the law and the data above, not from
``consent.gate``.
"""

from collections.abc import Callable

from core.records import DataCategory

BASIC = DataCategory.BASIC.value
HOUSEHOLD = DataCategory.HOUSEHOLD.value
CONSULTATION = DataCategory.CONSULTATION.value
HEALTH = DataCategory.HEALTH.value
FINANCE = DataCategory.FINANCE.value
PLAN = DataCategory.PLAN.value
ALL = (BASIC, HOUSEHOLD, CONSULTATION, HEALTH, FINANCE, PLAN)

STATES = ("none", "some", "withdrawn", "expired", "emergency")
AGENCIES = ("H", "L", "J", "C", "U")
ROLES = ("caseworker", "supervisor", "supporter", "roster_admin")
# H's own extra staff: a caseworker who also keeps the roster (山田 of the old matrix), and the
# supporter dispatched to every client (the others are dispatched to nobody).
H_EXTRA = ("H-roster_caseworker", "H-dispatched")
STAFF = (*(f"{agency}-{role}" for agency in AGENCIES for role in ROLES), *H_EXTRA)
PERSONAS = (*STAFF, "sysadmin", "anonymous")

CLIENT_ROLES = frozenset({"caseworker", "supervisor", "roster_caseworker"})
ROSTER_ROLES = frozenset({"roster_admin", "roster_caseworker"})
SUPPORTER_ROLES = frozenset({"supporter", "dispatched"})

# --- The oracle: what the law and the data say, independently of consent.gate -----------------

# Valid consents to L and to J today, by state ("withdrawn" and "expired" had all categories).
CONSENTED_TODAY = {"some": (BASIC, CONSULTATION)}
COUNCIL_SHARED = (BASIC, HOUSEHOLD)  # every client, every state, to the council's members
EMERGENCY_SHARED = (BASIC, HEALTH)  # state "emergency" only
EMERGENCY_TO = ("L", "J", "C", "U")
LINKED = ("L", "J")  # an accepted つなぎ (L) or 共同支援 (J) joins their records to H's
# What crossed with the referrals (the recipients' own copy, by state).
SENT = {
    "none": (BASIC,),
    "some": (BASIC, CONSULTATION),
    "withdrawn": ALL,
    "expired": ALL,
    "emergency": (BASIC,),
}


def agency_of(persona: str) -> str | None:
    return persona.split("-")[0] if "-" in persona else None


def role_of(persona: str) -> str | None:
    return persona.split("-")[1] if "-" in persona else None


def works_with_clients(persona: str) -> bool:
    return role_of(persona) in CLIENT_ROLES


def oracle(persona: str, state: str) -> dict[str, str]:
    """{category: basis} of what ``persona`` may see of the client in ``state`` today.

    The holding agency's caseworkers and supervisors see everything; nobody else without a
    caseworker's or supervisor's role sees anything through the gate (supporters,
    administrative staff, system admins). Outside H: a valid consent to one's agency while
    linked, then a 支援会議 sharing, then an emergency disclosure — the least exceptional basis
    is the one recorded."""
    if not works_with_clients(persona):
        return {}
    agency = agency_of(persona)
    if agency == "H":
        return dict.fromkeys(ALL, "holder")
    shown: dict[str, str] = {}
    if agency in LINKED:
        for category in CONSENTED_TODAY.get(state, ()):
            shown.setdefault(category, "consent")
    if agency == "C":
        for category in COUNCIL_SHARED:
            shown.setdefault(category, "council")
    if state == "emergency" and agency in EMERGENCY_TO:
        for category in EMERGENCY_SHARED:
            shown.setdefault(category, "emergency")
    return shown


# The supporter's own screens show a dispatched supporter the household's name and address
# (outside the gate: the dispatch is the reason, and H's own staff's looks are not logged).
SUPPORTER_SCREENS = frozenset({"cases:my_households", "cases:my_household"})


def may_see(persona: str, state: str, name: str) -> dict[str, str]:
    """What ``persona`` may find of the client in ``state`` on the page ``name``."""
    if persona == "H-dispatched" and name in SUPPORTER_SCREENS:
        return {BASIC: "dispatch"}
    return oracle(persona, state)


def sentinels(state: str) -> dict[str, tuple[str, ...]]:
    """Strings that exist only in the live record of the state's client, per category."""
    tag = state.upper()
    number = STATES.index(state) + 1
    return {
        BASIC: (f"ZQ{tag}NAMEQZ", f"099-4{number}{number}7-20{number}1"),
        HOUSEHOLD: (f"ZQ{tag}HOUSEHOLDQZ",),
        CONSULTATION: (f"ZQ{tag}SUMMARYQZ", f"ZQ{tag}NOTESQZ"),
        PLAN: (f"ZQ{tag}PLANWORDSQZ",),
    }


# --- Audiences: who may reach a URL (persona, state) → bool -------------------------------------

Audience = Callable[..., bool]


def holder(persona: str, state: str | None = None) -> bool:
    """The holding agency's caseworkers and supervisors."""
    return works_with_clients(persona) and agency_of(persona) == "H"


def live_view(persona: str, state: str | None) -> bool:
    linked = works_with_clients(persona) and agency_of(persona) in LINKED
    return holder(persona) or linked or bool(oracle(persona, state))


def sides(to: str) -> Audience:
    """The sending (H) and the receiving agency's caseworkers and supervisors."""
    agencies = ("H", to)

    def audience(persona: str, state: str | None = None) -> bool:
        return works_with_clients(persona) and agency_of(persona) in agencies

    return audience


def receiver(to: str) -> Audience:
    def audience(persona: str, state: str | None = None) -> bool:
        return works_with_clients(persona) and agency_of(persona) == to

    return audience


def nobody(persona: str, state: str | None = None) -> bool:
    return False


def everyone(persona: str, state: str | None = None) -> bool:
    return True


def signed_in(persona: str, state: str | None = None) -> bool:
    return persona != "anonymous"


def client_work(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona)


def holder_or_sysadmin(persona: str, state: str | None = None) -> bool:
    return holder(persona) or persona == "sysadmin"


def h_supervisor(persona: str, state: str | None = None) -> bool:
    return persona == "H-supervisor"


def supervisors(persona: str, state: str | None = None) -> bool:
    return role_of(persona) == "supervisor"


def system_only(persona: str, state: str | None = None) -> bool:
    return persona == "sysadmin"


def h_roster(persona: str, state: str | None = None) -> bool:
    """H's own roster admins, and system admins."""
    return (agency_of(persona) == "H" and role_of(persona) in ROSTER_ROLES) or (
        persona == "sysadmin"
    )


def roster_admins(persona: str, state: str | None = None) -> bool:
    return role_of(persona) in ROSTER_ROLES or persona == "sysadmin"


def supporters(persona: str, state: str | None = None) -> bool:
    return role_of(persona) in SUPPORTER_ROLES


def dispatched(persona: str, state: str | None = None) -> bool:
    return persona == "H-dispatched"


def not_supporters(persona: str, state: str | None = None) -> bool:
    return signed_in(persona) and not supporters(persona)


def council_members(persona: str, state: str | None = None) -> bool:
    return council_member_staff(persona) or persona == "sysadmin"


def council_member_staff(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona) and agency_of(persona) in ("H", "C")


def council_runner(persona: str, state: str | None = None) -> bool:
    """The secretariat's (H's) supervisors, and system admins."""
    return persona in ("H-supervisor", "sysadmin")


def councils_page(persona: str, state: str | None = None) -> bool:
    return works_with_clients(persona) or persona == "sysadmin"
