"""A client's record by data category (core.records.DataCategory): which consultation topic
travels as which category, the data of each category, and the rows a page shows for it. Used
for what crosses with a referral and for a partner's live view. It sits next to the gate
because it is half of "what crosses": the gate decides which categories a viewer gets, this
says what each category holds."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.models import (
    Client,
    Consultation,
    ContactPreference,
    Gender,
    GoingOut,
    HouseholdMember,
    Plan,
    Relationship,
    Stage,
    Topic,
    WithdrawalDuration,
    WithdrawalTrigger,
)
from core.records import DataCategory

# A topic travels with the category it speaks of, not with 相談内容: knowing that someone
# came about an illness or abuse is special-care data (心身の状況, 要配慮個人情報: 病歴, 犯罪被害),
# and debts or arrears are their finances. Every other topic is part of the consultation.
TOPIC_CATEGORY = {
    Topic.HEALTH: DataCategory.HEALTH,
    Topic.ABUSE: DataCategory.HEALTH,
    Topic.INCOME: DataCategory.FINANCE,
    Topic.RENT_LOAN: DataCategory.FINANCE,
    Topic.TAX_UTILITIES: DataCategory.FINANCE,
    Topic.DEBT: DataCategory.FINANCE,
    Topic.FOOD: DataCategory.FINANCE,
}


def topics_by_category(topics: list[str]) -> dict[str, list[str]]:
    by_category: dict[str, list[str]] = {}
    for topic in topics:
        category = TOPIC_CATEGORY.get(topic, DataCategory.CONSULTATION)
        by_category.setdefault(category, []).append(topic)
    return by_category


def record_data(client: Client, categories: list[str]) -> dict[str, Any]:
    """The given categories of a client's record as they are now, as plain data: what crosses
    with a referral (its snapshot) and what a partner's live view shows. The caller has asked
    the consent gate which categories these may be."""
    snapshot: dict[str, Any] = {}
    if DataCategory.BASIC in categories:
        snapshot["basic"] = {
            "full_name": client.full_name,
            "full_name_kana": client.full_name_kana,
            "birth_date": client.birth_date.isoformat() if client.birth_date else None,
            "gender": client.gender,
            "postal_code": client.postal_code,
            "address": client.address,
            "phone": client.phone,
            "email": client.email,
            "contact_preferences": client.contact_preferences,
            "contact_note": client.contact_note,
        }
    if DataCategory.HOUSEHOLD in categories and client.household_id:
        # The members by relationship (never by name: they did not consent) and what the holder
        # noted about the household as a whole.
        snapshot["household"] = {
            "members": [
                {
                    "relationship": m.relationship,
                    "birth_year": m.birth_year,
                    "lives_together": m.lives_together,
                    "in_withdrawal": m.in_withdrawal,
                }
                for m in HouseholdMember.objects.filter(household_id=client.household_id)
            ],
            "note": client.household.note,
        }
    case = client.cases.exclude(stage=Stage.CLOSED).first()
    topics = topics_by_category([t.topic for t in case.topics.all()]) if case is not None else {}
    if DataCategory.CONSULTATION in categories and case is not None:
        snapshot["consultation"] = {
            "topics": topics.get(DataCategory.CONSULTATION, []),
            "records": [
                {"date": c.occurred_on.isoformat(), "summary": c.summary, "notes": c.notes}
                for c in Consultation.objects.filter(case=case).order_by("-occurred_on")[:20]
            ],
        }
    if DataCategory.HEALTH in categories and case is not None:
        snapshot["health"] = {
            "topics": topics.get(DataCategory.HEALTH, []),
            "withdrawal_duration": case.withdrawal_duration,
            "withdrawal_triggers": case.withdrawal_triggers,
            "going_out": case.going_out,
        }
    if DataCategory.FINANCE in categories and case is not None:
        snapshot["finance"] = {"topics": topics.get(DataCategory.FINANCE, [])}
    if DataCategory.PLAN in categories and case is not None:
        plan = Plan.objects.filter(case=case).order_by("-version").first()
        if plan is not None:
            snapshot["plan"] = {
                "version": plan.version,
                "client_words": plan.client_words,
                "goals": [g.text for g in plan.goals.all()],
                "items": [i.what for i in plan.items.all()],
            }
    return snapshot


@dataclass(frozen=True)
class RecordSection:
    """One category of what was sent, ready to show: (label, value) rows."""

    category: str
    label: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    withheld: bool = False  # the gate does not let the viewer see it (any more)


def _labels(choices, values) -> str:
    names = dict(choices)
    return "、".join(str(names.get(v, v)) for v in values or [])


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or "—")) if value else "—"


def _basic_rows(data: dict) -> list[tuple[str, str]]:
    address = data.get("address") or ""
    if data.get("postal_code"):
        address = f"〒{data['postal_code']} {address}"
    return [
        (_("Full name"), data.get("full_name") or "—"),
        (_("Reading"), data.get("full_name_kana") or "—"),
        (_("Date of birth"), data.get("birth_date") or "—"),
        (_("Gender"), _label(Gender.choices, data.get("gender"))),
        (_("Address"), address or "—"),
        (_("Phone"), data.get("phone") or "—"),
        (_("Email"), data.get("email") or "—"),
        (
            _("How to contact"),
            _labels(ContactPreference.choices, data.get("contact_preferences")) or "—",
        ),
        (_("Note on contact"), data.get("contact_note") or "—"),
    ]


def _household_rows(data: dict | list) -> list[tuple[str, str]]:
    # Referrals sent before the household's note was shared keep a plain list of members.
    members = data if isinstance(data, list) else data.get("members", [])
    rows = []
    for member in members:
        parts = []
        if member.get("birth_year"):
            parts.append(str(_("born %(year)s")) % {"year": member["birth_year"]})
        parts.append(str(_("lives together") if member.get("lives_together") else _("lives apart")))
        if member.get("in_withdrawal"):
            parts.append(str(_("in a hikikomori state")))
        rows.append((_label(Relationship.choices, member.get("relationship")), "、".join(parts)))
    if isinstance(data, dict) and data.get("note"):
        rows.append((_("Note on the household"), data["note"]))
    return rows


def _consultation_rows(data: dict) -> list[tuple[str, str]]:
    rows = [(_("Topics"), _labels(Topic.choices, data.get("topics")) or "—")]
    for record in data.get("records", []):
        text = record.get("summary", "")
        if record.get("notes"):
            text = f"{text}\n{record['notes']}"
        rows.append((record.get("date", ""), text))
    return rows


def _health_rows(data: dict) -> list[tuple[str, str]]:
    topics = [(_("Topics"), _labels(Topic.choices, data["topics"]))] if data.get("topics") else []
    return [
        *topics,
        (
            _("How long in withdrawal"),
            _label(WithdrawalDuration.choices, data.get("withdrawal_duration")),
        ),
        (
            _("What started it"),
            _labels(WithdrawalTrigger.choices, data.get("withdrawal_triggers")) or "—",
        ),
        (_("Going out"), _label(GoingOut.choices, data.get("going_out"))),
    ]


def _finance_rows(data: dict) -> list[tuple[str, str]]:
    return [(_("Topics"), _labels(Topic.choices, data.get("topics")) or "—")]


def _plan_rows(data: dict) -> list[tuple[str, str]]:
    return [
        (_("Version"), str(data.get("version", "—"))),
        (_("The client's own words"), data.get("client_words") or "—"),
        (_("Goals"), "\n".join(data.get("goals", [])) or "—"),
        (_("Support items"), "\n".join(data.get("items", [])) or "—"),
    ]


SECTION_ROWS = {
    DataCategory.BASIC: _basic_rows,
    DataCategory.HOUSEHOLD: _household_rows,
    DataCategory.CONSULTATION: _consultation_rows,
    DataCategory.HEALTH: _health_rows,
    DataCategory.FINANCE: _finance_rows,
    DataCategory.PLAN: _plan_rows,
}


def record_sections(
    data: dict[str, Any], categories: list[str], visible: set[str]
) -> list[RecordSection]:
    """One section per category, in the given order; those not visible are withheld (shown as
    a placeholder, never silently dropped)."""
    labels = dict(DataCategory.choices)
    sections = []
    for category in categories:
        label = labels.get(category, category)
        if category not in visible:
            sections.append(RecordSection(category, label, withheld=True))
            continue
        part = data.get(category)
        rows = SECTION_ROWS[category](part) if category in SECTION_ROWS and part else []
        sections.append(RecordSection(category, label, rows))
    return sections
