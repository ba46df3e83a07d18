"""A client's household as the client page shows it, with the "8050" pattern flagged."""

from dataclasses import dataclass

from agencies.permissions import Viewer

from ..models import PARENTS, Case, Client, Household, HouseholdMember, Relationship, Stage
from .scope import case_scope

# The "8050" pattern (an older parent living with a middle-aged child in withdrawal), as the
# notices describe it; the thresholds are the looser "7040" so it is seen early.
OLDER_PARENT_AGE = 70
MIDDLE_AGED_CHILD_AGE = 40


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    members: list[HouseholdMember]
    open_cases: dict[int, Case]  # by client id, for members who are clients here
    flag_8050: bool


def _age(member: HouseholdMember) -> int:
    client = member.client
    if client is not None and client.birth_date is not None:
        return client.age
    return member.age or 0


def _in_withdrawal(member: HouseholdMember, open_cases: dict[int, Case]) -> bool:
    if member.client_id and member.client_id in open_cases:
        return open_cases[member.client_id].is_hikikomori
    return member.in_withdrawal


def household_view(*, viewer: Viewer, client: Client) -> HouseholdView | None:
    """The client's household: every member, their open cases here, and the 8050 flag,
    derived from ages, who lives together and who is in withdrawal (never set by hand)."""
    if client.household_id is None:
        return None
    household = client.household
    members = list(household.members.select_related("client").order_by("birth_year", "id"))
    member_client_ids = [m.client_id for m in members if m.client_id]
    open_cases = {
        case.client_id: case
        for case in case_scope(viewer=viewer)
        .filter(client_id__in=member_client_ids)
        .exclude(stage=Stage.CLOSED)
        .prefetch_related("topics")
    }
    together = [m for m in members if m.lives_together]
    self_member = next((m for m in members if m.relationship == Relationship.SELF), None)
    # The client's own age comes from their record (the member row may predate a birth date).
    older_parents = [
        m for m in together if m.relationship in PARENTS and _age(m) >= OLDER_PARENT_AGE
    ]
    client_is_older_parent = self_member is not None and _age(self_member) >= OLDER_PARENT_AGE
    withdrawn_children = [
        m
        for m in together
        if _age(m) >= MIDDLE_AGED_CHILD_AGE
        and _in_withdrawal(m, open_cases)
        and (
            # the client (or a sibling) living with their older parent …
            (m.relationship in {Relationship.SELF, Relationship.SIBLING} and older_parents)
            # … or the client is the older parent of a withdrawn child
            or (m.relationship == Relationship.CHILD and client_is_older_parent)
        )
    ]
    return HouseholdView(
        household=household,
        members=members,
        open_cases=open_cases,
        flag_8050=bool(withdrawn_children),
    )
